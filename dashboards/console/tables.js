// The console's tables: incidents and their alerts (acknowledge with a comment), dead letters (replay), publishers (status, last seen, completeness).

import { orderAlerts } from '../common/alerts.js';
import { el } from '../common/dom.js';
import { areaName, formatTime, formatValue, t } from '../common/i18n.js';
import { eventTime, summarize } from './tail.js';

function head(lang, ...keys) {
  return el('thead', {}, el('tr', {}, keys.map((k) => el('th', {}, t(lang, k)))));
}

function areaLabel(ctx, code) {
  const area = ctx.areas.get(code);
  return area ? `${areaName(area, ctx.lang)} (${code})` : code ?? '—';
}

/** Its member alerts, as a disclosure under the incident's own text: each alert's text, area and state. */
function memberList(ctx, incident) {
  const { lang } = ctx;
  // By area code: the incident's own area (the highest) first, then the areas under it in order.
  const members = ctx.alerts.filter((a) => a.incident_id === incident.id).sort((a, b) => a.area_code.localeCompare(b.area_code));
  if (members.length < 2) return null;
  return el(
    'details',
    { class: 'members' },
    el('summary', {}, `${t(lang, 'console.members')}: ${incident.summary[lang]}`),
    el(
      'ul',
      {},
      members.map((a) => el('li', { 'data-alert': a.id }, `${a.messages[lang]} — ${t(lang, `state.${a.state}`)}`)),
    ),
  );
}

function stateText(lang, incident) {
  const state = t(lang, `state.${incident.state}`);
  if (incident.state !== 'acknowledged') return state;
  const by = incident.acknowledged_by ? ` ${t(lang, 'console.by')} ${incident.acknowledged_by}` : '';
  return `${state}${by}${incident.ack_comment ? ` — “${incident.ack_comment}”` : ''}`;
}

/** One row per incident (one cause); onAck(incident, comment) is called by the button of an open one. */
export function alertRows(ctx, onAck) {
  const { lang } = ctx;
  return [
    head(lang, 'col.severity', 'col.area', 'col.message', 'col.state', 'col.opened', 'col.action'),
    el(
      'tbody',
      {},
      orderAlerts(ctx.incidents).map((i) => {
        const comment = el('input', { type: 'text', class: 'comment', maxlength: 1000, placeholder: t(lang, 'console.comment') });
        const action =
          i.state === 'open'
            ? el('span', { class: 'ack-form' }, comment, el('button', { type: 'button', onclick: () => onAck(i, comment.value) }, t(lang, 'console.ack')))
            : null;
        return el(
          'tr',
          { 'data-incident': i.id, class: i.muted ? 'muted' : '' },
          el('td', { class: `sev-${i.severity}` }, t(lang, `severity.${i.severity}`)),
          el('td', {}, areaLabel(ctx, i.area_code)),
          el('td', { class: 'detail' }, el('div', { class: 'msg' }, i.messages[lang]), memberList(ctx, i)),
          el('td', { class: 'state' }, [stateText(lang, i), i.muted ? ` · ${t(lang, 'alerts.muted')}` : ''].join('')),
          el('td', {}, formatTime(i.opened_at, lang)),
          el('td', {}, action),
        );
      }),
    ),
  ];
}

/** onReplay(deadLetter) is called by the button of an open dead letter. */
export function deadLetterRows(ctx, onReplay) {
  const { lang } = ctx;
  return [
    head(lang, 'col.time', 'col.publisher', 'col.reason', 'col.detail', 'col.outcome', 'col.action'),
    el(
      'tbody',
      {},
      ctx.deadLetters.map((d) =>
        el(
          'tr',
          { 'data-dead-letter': d.id },
          el('td', {}, formatTime(d.received_at, lang)),
          el('td', {}, d.publisher_id ?? '—'),
          el('td', {}, d.reason),
          el('td', { class: 'detail' }, `${d.detail} · ${d.topic}`),
          el('td', {}, d.last_replay_outcome ?? ''),
          el('td', {}, d.resolved_at ? '✓' : el('button', { type: 'button', onclick: () => onReplay(d) }, t(lang, 'console.replay'))),
        ),
      ),
    ),
  ];
}

export function publisherRows(ctx) {
  const { lang } = ctx;
  return [
    head(lang, 'col.publisher', 'col.source', 'col.area', 'col.status', 'col.last_seen', 'col.completeness'),
    el(
      'tbody',
      {},
      ctx.publishers.map((p) => {
        // The API's last seen (status or stored event), or a newer event of the live tail.
        const seen = [p.last_seen_at, ctx.lastSeen.get(p.id)].filter(Boolean).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
        // The API's status: `silent` wins over a last will's `online`; onboarding and maintenance are said too.
        const status = p.disabled_at ? 'disabled' : (p.status ?? '—');
        const state = p.state === 'onboarding' || p.state === 'maintenance' ? ` · ${t(lang, `publisher.${p.state}`)}` : '';
        const completeness = p.completeness ?? undefined;
        return el(
          'tr',
          { 'data-publisher': p.id },
          el('td', {}, p.id),
          el('td', {}, p.source),
          el('td', {}, areaLabel(ctx, p.area_code)),
          el('td', { class: `status-${status}` }, `${status}${state}`),
          el('td', {}, formatTime(seen, lang)),
          el('td', {}, completeness === undefined ? '—' : `${formatValue(completeness, '%', lang)} %`),
        );
      }),
    ),
  ];
}

export function tailRows(ctx) {
  const { lang } = ctx;
  return [
    head(lang, 'col.time', 'col.type', 'col.publisher', 'col.area', 'col.detail'),
    el(
      'tbody',
      {},
      ctx.tail.map((e) =>
        el(
          'tr',
          { class: e.type },
          el('td', {}, formatTime(eventTime(e), lang)),
          el('td', {}, e.type),
          el('td', {}, e.publisher_id ?? '—'),
          el('td', {}, e.area_code ?? ''),
          el('td', { class: 'detail' }, summarize(e)),
        ),
      ),
    ),
  ];
}
