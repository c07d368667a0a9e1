// The live event tail's filters and rows (pure: the subscription for /ws/events, a one-line summary per event).

export const SOURCE_TYPES = { portal: ['dossier'], payments: ['transaction'], coverage: ['sample'] };
export const TYPES = ['dossier', 'transaction', 'sample', 'status', 'dead_letter'];
const MAX_PER_SECOND = 200;

function list(text) {
  const items = (text ?? '').split(/[\s,]+/).filter((s) => s !== '');
  return items.length > 0 ? items : '*';
}

/**
 * The `subscribe` message for the filters of the form: `source` (portal, payments, coverage or ''),
 * `type` (one of TYPES or ''), `areas` and `publishers` (comma- or space-separated, '' for any),
 * `maxPerSecond`. A source and a type that exclude each other select nothing: that is an error, not
 * a tail of everything.
 */
export function tailSubscription({ source = '', type = '', areas = '', publishers = '', maxPerSecond = 50 }) {
  if (source && !SOURCE_TYPES[source]) throw new Error(`unknown source '${source}'`);
  if (type && !TYPES.includes(type)) throw new Error(`unknown type '${type}'`);
  let types = '*';
  if (source && type) {
    if (!SOURCE_TYPES[source].includes(type)) throw new Error(`source '${source}' has no events of type '${type}'`);
    types = [type];
  } else if (source) {
    types = [...SOURCE_TYPES[source]];
  } else if (type) {
    types = [type];
  }
  const rate = Math.max(1, Math.min(MAX_PER_SECOND, Math.trunc(Number(maxPerSecond)) || 50));
  return { type: 'subscribe', types, areas: list(areas), publishers: list(publishers), max_per_second: rate };
}

/** When an event of the tail happened: its event time, a status's time, a dead letter's arrival. */
export function eventTime(event) {
  return event.occurred_at ?? event.at ?? event.received_at ?? null;
}

/** A short line saying what the event was. */
export function summarize(event) {
  switch (event.type) {
    case 'dossier':
      return `${event.dossier_id} ${event.status} · ${event.channel}${event.e_certified ? ' · e-cert' : ''}`;
    case 'transaction':
      return `${event.sector} · ${event.method} · ${event.amount_vnd} VND · ${event.outcome}`;
    case 'sample':
      return `${event.download_mbps} Mbit/s · ${event.latency_ms} ms · ${event.packet_loss_pct} % loss`;
    case 'status':
      return event.state;
    case 'dead_letter':
      return `${event.reason}: ${event.detail}`;
    default:
      return '';
  }
}

/** The latest moment each publisher was heard of in the tail, merged into what was known. */
export function lastSeen(known, events) {
  const out = new Map(known);
  for (const event of events) {
    const at = eventTime(event);
    if (!event.publisher_id || !at) continue;
    const before = out.get(event.publisher_id);
    if (!before || Date.parse(at) > Date.parse(before)) out.set(event.publisher_id, at);
  }
  return out;
}
