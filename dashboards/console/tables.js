// The console's tables: alerts (acknowledge), dead letters (replay), publishers (status, last seen, completeness).

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

/** onAck(alert) is called by the button of an open alert. */
export function alertRows(ctx, onAck) {
  const { lang } = ctx;
  return [
    head(lang, 'col.severity', 'col.area', 'col.message', 'col.state', 'col.opened', 'col.action'),
    el(
      'tbody',
      {},
      orderAlerts(ctx.alerts).map((a) =>
        el(
          'tr',
          { 'data-alert': a.id, class: a.muted ? 'muted' : '' },
          el('td', { class: `sev-${a.severity}` }, t(lang, `severity.${a.severity}`)),
          el('td', {}, areaLabel(ctx, a.area_code)),
          el('td', { class: 'detail' }, `${a.message} (${a.kpi}, ${a.window})`),
          el('td', {}, [
            a.state === 'acknowledged' ? `${a.state} · ${a.acknowledged_by ?? ''}` : a.state,
            // Recorded, but needs no action and is not notified while the mute is in force.
            a.muted ? ` · ${t(lang, 'alerts.muted')} #${a.muted_by}` : '',
          ].join('')),
          el('td', {}, formatTime(a.opened_at, lang)),
          el('td', {}, a.state === 'open' ? el('button', { type: 'button', onclick: () => onAck(a) }, t(lang, 'console.ack')) : null),
        ),
      ),
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
