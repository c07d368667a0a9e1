// The alerts list: a filter by state (open, acknowledged, resolved history) and, per alert, links to its
// area and its publisher (the publishers list filtered to them). The message cell and the acknowledge
// button are the alert texts' part (issue 22 item 1): kept here, in this module only, for them to change.

import { orderAlerts } from '../common/alerts.js';
import { el } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { areaLabel } from './publishers_panel.js';
import { w } from './words.js';

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'];

export function alertFilter(lang, chosen, onChange) {
  return el(
    'form',
    { id: 'alert-filters', class: 'filters', onchange: (event) => onChange(event.currentTarget) },
    el('span', {}, w(lang, 'alerts.filter.state')),
    ALERT_STATES.map((s) =>
      el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'state', value: s, checked: chosen.includes(s) }), el('span', {}, w(lang, `alerts.state.${s}`))),
    ),
  );
}

/** Unresolved ones as the wall orders them, then the resolved history, newest first. */
function ordered(alerts) {
  const resolved = alerts.filter((a) => a.state === 'resolved').sort((a, b) => Date.parse(b.opened_at) - Date.parse(a.opened_at) || b.id - a.id);
  return [...orderAlerts(alerts), ...resolved];
}

export function chosenStates(form) {
  return new FormData(form).getAll('state');
}

/** onAck(alert) acknowledges; onArea(code) and onPublisher(id) show them in the publishers list. */
export function alertRows(ctx, { onAck, onArea, onPublisher }) {
  const { lang } = ctx;
  return [
    el('thead', {}, el('tr', {}, ['col.severity', 'col.area', 'col.message', 'col.state', 'col.opened', 'col.action'].map((k) => el('th', {}, t(lang, k))), el('th', {}, w(lang, 'col.links')))),
    el(
      'tbody',
      {},
      ordered(ctx.alerts).map((a) =>
        el(
          'tr',
          { 'data-alert': a.id, class: `alert-${a.state}` },
          el('td', { class: `sev-${a.severity}` }, t(lang, `severity.${a.severity}`)),
          el('td', {}, areaLabel(ctx, a.area_code)),
          el('td', { class: 'detail' }, `${a.message} (${a.kpi}, ${a.window})`),
          el('td', {}, a.state === 'acknowledged' ? `${w(lang, 'alerts.state.acknowledged')} · ${a.acknowledged_by ?? ''}` : w(lang, `alerts.state.${a.state}`)),
          el('td', {}, formatTime(a.opened_at, lang)),
          el('td', {}, a.state === 'open' ? el('button', { type: 'button', class: 'ack', onclick: () => onAck(a) }, t(lang, 'console.ack')) : null),
          el(
            'td',
            { class: 'buttons' },
            el('button', { type: 'button', class: 'link area-link', onclick: () => onArea(a.area_code) }, w(lang, 'alerts.show_area')),
            a.publisher_id ? el('button', { type: 'button', class: 'link publisher-link', onclick: () => onPublisher(a.publisher_id) }, w(lang, 'alerts.show_publisher')) : null,
          ),
        ),
      ),
    ),
  ];
}
