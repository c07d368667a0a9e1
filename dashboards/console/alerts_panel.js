// The alerts list: one row per incident (the alerts of one cause: eight silent villages and their commune
// are one row), filtered by state (open, acknowledged, resolved history); each row has its text in the
// page's language, its member alerts under a disclosure, acknowledge with a comment (for the incident and
// its open alerts), and links to its area and to its publishers (the publishers list filtered to them).
// Every text from the API is set as text, never parsed as markup.

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
function ordered(incidents) {
  const resolved = incidents.filter((i) => i.state === 'resolved').sort((a, b) => Date.parse(b.opened_at) - Date.parse(a.opened_at) || b.id - a.id);
  return [...orderAlerts(incidents), ...resolved];
}

export function chosenStates(form) {
  return new FormData(form).getAll('state');
}

/** Its member alerts (by area code: the incident's own, the highest, first), each with text and state. */
function members(ctx, incident) {
  return ctx.alerts.filter((a) => a.incident_id === incident.id).sort((a, b) => a.area_code.localeCompare(b.area_code));
}

function memberList(ctx, incident, alerts) {
  const { lang } = ctx;
  if (alerts.length < 2) return null;
  return el(
    'details',
    { class: 'members' },
    el('summary', {}, `${t(lang, 'console.members')}: ${incident.summary[lang]}`),
    el('ul', {}, alerts.map((a) => el('li', { 'data-alert': a.id }, `${a.messages[lang]} — ${t(lang, `state.${a.state}`)}`))),
  );
}

function stateText(lang, incident) {
  const state = t(lang, `state.${incident.state}`);
  const muted = incident.muted ? ` · ${t(lang, 'alerts.muted')}` : '';
  if (incident.state !== 'acknowledged') return `${state}${muted}`;
  const by = incident.acknowledged_by ? ` ${t(lang, 'console.by')} ${incident.acknowledged_by}` : '';
  return `${state}${by}${incident.ack_comment ? ` — “${incident.ack_comment}”` : ''}${muted}`;
}

/** onAck(incident, comment) acknowledges; onArea(code) and onPublisher(id) show them in the publishers list. */
export function alertRows(ctx, { onAck, onArea, onPublisher }) {
  const { lang } = ctx;
  return [
    el('thead', {}, el('tr', {}, ['col.severity', 'col.area', 'col.message', 'col.state', 'col.opened', 'col.action'].map((k) => el('th', {}, t(lang, k))), el('th', {}, w(lang, 'col.links')))),
    el(
      'tbody',
      {},
      ordered(ctx.incidents).map((i) => {
        const alerts = members(ctx, i);
        const publishers = [...new Set(alerts.flatMap((a) => a.publishers ?? []))].sort();
        const comment = el('input', { type: 'text', class: 'comment', maxlength: 1000, placeholder: t(lang, 'console.comment') });
        const action =
          i.state === 'open'
            ? el('span', { class: 'ack-form' }, comment, el('button', { type: 'button', class: 'ack', onclick: () => onAck(i, comment.value) }, t(lang, 'console.ack')))
            : null;
        return el(
          'tr',
          { 'data-incident': i.id, class: [`alert-${i.state}`, i.muted ? 'muted' : ''].join(' ').trim() },
          el('td', { class: `sev-${i.severity}` }, t(lang, `severity.${i.severity}`)),
          el('td', {}, areaLabel(ctx, i.area_code)),
          el('td', { class: 'detail' }, el('div', { class: 'msg' }, i.messages[lang]), memberList(ctx, i, alerts)),
          el('td', { class: 'state' }, stateText(lang, i)),
          el('td', {}, formatTime(i.opened_at, lang)),
          el('td', {}, action),
          el(
            'td',
            { class: 'buttons' },
            el('button', { type: 'button', class: 'link area-link', onclick: () => onArea(i.area_code) }, w(lang, 'alerts.show_area')),
            publishers.length === 1
              ? el('button', { type: 'button', class: 'link publisher-link', onclick: () => onPublisher(publishers[0]) }, w(lang, 'alerts.show_publisher'))
              : null,
          ),
        );
      }),
    ),
  ];
}
