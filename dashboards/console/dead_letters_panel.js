// Dead letters: filters (reason, publisher, time), the list with replay of one, the payload viewer (text
// as text, binary as a hex dump, 64 KiB at most, saying so), the count of a filter then the replay of all
// it matches, and the CSV export.

import { el } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { w } from './words.js';

// The MQTT contract's reason codes (ingest/contract/errors.py), for the filter.
export const REASONS = [
  'topic_invalid', 'too_large', 'not_utf8', 'nul_character', 'not_json', 'non_finite_number', 'too_deep', 'not_object',
  'unknown_field', 'missing_field', 'invalid_value', 'future_event', 'too_old', 'unknown_area', 'area_not_allowed',
  'unknown_publisher', 'publisher_disabled', 'source_mismatch', 'conflicting_duplicate', 'storage_rejected',
];

/** The API's query parameters of the filter form's values ({reason, publisher, since, until, include_resolved}). */
export function filterParams(values) {
  const params = {};
  if (values.reason) params.reason = values.reason;
  if (values.publisher?.trim()) params.publisher = values.publisher.trim();
  // datetime-local is the browser's local time: sent with its offset, as the API requires.
  for (const name of ['since', 'until']) if (values[name]) params[name] = new Date(values[name]).toISOString();
  if (values.include_resolved) params.include_resolved = 'true';
  return params;
}

export function filterForm(lang, onApply) {
  return el(
    'form',
    { id: 'dead-filters', class: 'filters', onsubmit: (event) => { event.preventDefault(); onApply(); } },
    el('label', {}, el('span', {}, w(lang, 'dl.filter.reason')),
      el('select', { name: 'reason' }, el('option', { value: '' }, '*'), REASONS.map((r) => el('option', { value: r }, r)))),
    el('label', {}, el('span', {}, w(lang, 'dl.filter.publisher')), el('input', { name: 'publisher', placeholder: 'pay-1', size: 12 })),
    el('label', {}, el('span', {}, w(lang, 'dl.filter.since')), el('input', { name: 'since', type: 'datetime-local' })),
    el('label', {}, el('span', {}, w(lang, 'dl.filter.until')), el('input', { name: 'until', type: 'datetime-local' })),
    el('label', { class: 'check' }, el('input', { name: 'include_resolved', type: 'checkbox' }), el('span', {}, w(lang, 'dl.filter.resolved'))),
    el('button', { type: 'submit' }, t(lang, 'console.apply')),
    el('button', { type: 'button', id: 'dead-count', onclick: () => onApply('count') }, w(lang, 'dl.count')),
    el('button', { type: 'button', id: 'dead-export', onclick: () => onApply('export') }, w(lang, 'dl.export')),
  );
}

/** The filter form's values (kept across re-renders by the caller). */
export function formValues(form) {
  const data = new FormData(form);
  return { ...Object.fromEntries(data), include_resolved: data.get('include_resolved') === 'on' };
}

/** Puts `values` back into a freshly rendered form. */
export function restoreForm(form, values) {
  for (const [name, value] of Object.entries(values ?? {})) {
    const input = form.elements.namedItem(name);
    if (!input) continue;
    if (input.type === 'checkbox') input.checked = Boolean(value);
    else input.value = value;
  }
}

/** The bar under the filters: the count of the filter and its replay button, once counted. */
export function bulkBar(lang, preview, onReplayAll) {
  if (!preview) return [];
  return [
    el('span', { id: 'dead-preview' }, w(lang, 'dl.count.result', preview)),
    preview.open > 0
      ? el('button', { type: 'button', id: 'dead-replay-all', onclick: () => onReplayAll(preview) }, w(lang, 'dl.replay_all', { n: preview.open }))
      : null,
  ];
}

/** onReplay(deadLetter) replays one; onView(deadLetter) shows its payload. */
export function deadLetterRows(ctx, onReplay, onView) {
  const { lang } = ctx;
  return [
    el('thead', {}, el('tr', {}, ['col.time', 'col.publisher', 'col.reason', 'col.detail', 'col.outcome', 'col.action'].map((k) => el('th', {}, t(lang, k))))),
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
          el(
            'td',
            { class: 'buttons' },
            el('button', { type: 'button', class: 'view', onclick: () => onView(d) }, w(lang, 'dl.view')),
            d.resolved_at ? ' ✓' : el('button', { type: 'button', class: 'replay', onclick: () => onReplay(d) }, t(lang, 'console.replay')),
          ),
        ),
      ),
    ),
  ];
}

/** The payload as the API gave it (`GET …/payload`), put in the page as text only; onClose() hides it. */
export function payloadView(lang, payload, onClose) {
  if (!payload) return [];
  const notes = [w(lang, 'dl.payload.size', { n: payload.payload_bytes })];
  if (payload.encoding === 'hex') notes.push(w(lang, 'dl.payload.hex'));
  if (payload.truncated) notes.push(w(lang, 'dl.payload.truncated', { shown: payload.shown_bytes, total: payload.payload_bytes }));
  return [
    el('h3', {}, w(lang, 'dl.payload', { id: payload.id }), ' ', el('button', { type: 'button', id: 'payload-close', onclick: onClose }, '×')),
    el('p', { id: 'payload-notes', class: payload.truncated ? 'truncated' : null }, notes.join(' · ')),
    el('pre', { id: 'payload-content', class: `payload ${payload.encoding}` }, payload.content),
  ];
}
