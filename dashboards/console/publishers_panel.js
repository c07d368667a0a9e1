// The publishers, problems first (silent, seq gaps, dead letters, then the rest), with filters by state,
// area and text; and one publisher's page: status, last seen, completeness, gaps, recent events and dead
// letters, and the admin actions (disable/enable, maintenance, silent-after).

import { el } from '../common/dom.js';
import { areaName, formatTime, formatValue, t } from '../common/i18n.js';
import { w } from './words.js';

/**
 * Its status as words: a quiet publisher in maintenance or onboarding says both (`silent · maintenance`),
 * since it is expected to be quiet and is not counted silent, but it is not online either.
 */
export function statusText(lang, p, problem) {
  const status = publisherStatus(p, problem);
  if (status === '—') return '—';
  const quiet = p.silent || p.status === 'silent';
  if ((status === 'maintenance' || status === 'onboarding') && quiet) {
    return `${w(lang, 'pub.state.silent')} · ${w(lang, `pub.state.${status}`)}`;
  }
  return w(lang, `pub.state.${status}`);
}

/** What the console calls a publisher now: never `online` while silent. `problem` is the status board's entry. */
export function publisherStatus(p, problem) {
  if (p.state === 'disabled' || p.disabled_at) return 'disabled';
  if (p.state === 'maintenance') return 'maintenance';
  if (p.silent ?? problem?.silent) return 'silent';
  if (p.state === 'onboarding') return 'onboarding';
  return p.status === 'silent' ? 'silent' : (p.status ?? '—');
}

/** 0 silent, 1 seq gaps, 2 open dead letters, 3 the rest (disabled last). */
export function problemRank(p, problem) {
  const status = publisherStatus(p, problem);
  if (status === 'silent') return 0;
  if (problem?.missing) return 1;
  if (problem?.open_dead_letters) return 2;
  return status === 'disabled' ? 4 : 3;
}

export function rankPublishers(publishers, problems) {
  const rank = (p) => problemRank(p, problems.get(p.id));
  return [...publishers].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
}

/** `filter`: {state, area, text}; state is '' (all), 'problems', a status, 'gaps' or 'dead_letters'. */
export function matchesFilter(p, problem, filter, areas, lang) {
  const status = publisherStatus(p, problem);
  const state = filter.state ?? '';
  if (state === 'problems' && problemRank(p, problem) > 2) return false;
  if (state === 'gaps' && !problem?.missing) return false;
  if (state === 'dead_letters' && !problem?.open_dead_letters) return false;
  if (!['', 'problems', 'gaps', 'dead_letters'].includes(state) && status !== state && p.state !== state) return false;
  const area = (filter.area ?? '').trim().toLowerCase();
  if (area) {
    const known = areas.get(p.area_code);
    const label = known ? areaName(known, lang).toLowerCase() : '';
    if (!p.area_code.startsWith(area) && !label.includes(area)) return false;
  }
  const text = (filter.text ?? '').trim().toLowerCase();
  return !text || [p.id, p.source, p.description ?? ''].some((s) => s.toLowerCase().includes(text));
}

export function areaLabel(ctx, code) {
  const area = ctx.areas.get(code);
  return area ? `${areaName(area, ctx.lang)} (${code})` : (code ?? '—');
}

function head(lang, ...labels) {
  return el('thead', {}, el('tr', {}, labels.map((l) => el('th', {}, l))));
}

function problemText(lang, problem) {
  const parts = [];
  if (problem?.missing) parts.push(w(lang, 'pub.missing', { n: problem.missing }));
  if (problem?.open_dead_letters) parts.push(w(lang, 'pub.letters', { n: problem.open_dead_letters }));
  return parts.join(' · ');
}

/** onPick(publisher) opens its page. */
export function publisherRows(ctx, onPick) {
  const { lang } = ctx;
  const shown = rankPublishers(ctx.publishers, ctx.problems).filter((p) =>
    matchesFilter(p, ctx.problems.get(p.id), ctx.publisherFilter, ctx.areas, lang),
  );
  return [
    head(lang, t(lang, 'col.publisher'), t(lang, 'col.area'), t(lang, 'col.status'), w(lang, 'col.problem'),
      t(lang, 'col.last_seen'), t(lang, 'col.completeness')),
    el(
      'tbody',
      {},
      shown.map((p) => {
        const problem = ctx.problems.get(p.id);
        const status = publisherStatus(p, problem);
        // The API's last seen (status or stored event), or a newer event of the live tail.
        const seen = [p.last_seen_at, problem?.last_seen_at, ctx.lastSeen.get(p.id)]
          .filter(Boolean)
          .sort((a, b) => Date.parse(b) - Date.parse(a))[0];
        return el(
          'tr',
          { 'data-publisher': p.id, class: ctx.picked === p.id ? 'picked' : null },
          el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => onPick(p) }, p.id)),
          el('td', {}, areaLabel(ctx, p.area_code)),
          el('td', { class: `status-${status}` }, statusText(lang, p, problem)),
          el('td', { class: 'detail' }, problemText(lang, problem)),
          el('td', {}, formatTime(seen, lang)),
          el('td', {}, p.completeness == null ? '—' : `${formatValue(p.completeness, '%', lang)} %`),
        );
      }),
    ),
    el('caption', { class: 'count' }, w(lang, 'pub.shown', { shown: shown.length, total: ctx.publishers.length })),
  ];
}

/** Its own silence threshold, or the default (with its value once the API gives it). */
function silentAfter(lang, p) {
  if (p.silent_after_seconds == null) return w(lang, 'pub.action.default');
  return p.silent_after_default ? `${w(lang, 'pub.action.default')} (${p.silent_after_seconds})` : String(p.silent_after_seconds);
}

function field(label, value) {
  return [el('dt', {}, label), el('dd', {}, value)];
}

/** One publisher's page. `page`: {publisher, gaps, events, deadLetters}; `act(kind, form)` runs an action. */
export function publisherPage(ctx, page, act) {
  const { lang } = ctx;
  if (!page) return [el('p', { class: 'hint' }, w(lang, 'pub.page.pick'))];
  const p = page.publisher;
  const problem = ctx.problems.get(p.id);
  const status = publisherStatus(p, problem);
  const maintenance = p.maintenance ? `${formatTime(p.maintenance.until, lang)} · ${p.maintenance.reason} · ${p.maintenance.by}` : '—';
  const disabled = status === 'disabled';
  return [
    el('h3', {}, `${p.id} `, el('span', { class: `status-${status}` }, status === '—' ? '' : w(lang, `pub.state.${status}`))),
    el(
      'dl',
      { class: 'facts' },
      field(t(lang, 'col.source'), p.source),
      field(t(lang, 'col.area'), areaLabel(ctx, p.area_code)),
      field(t(lang, 'col.last_seen'), formatTime(p.last_seen_at ?? problem?.last_seen_at, lang)),
      field(t(lang, 'col.completeness'), p.completeness == null ? '—' : `${formatValue(p.completeness, '%', lang)} %`),
      field(w(lang, 'pub.page.silent_after'), silentAfter(lang, p)),
      field(w(lang, 'pub.page.maintenance'), maintenance),
    ),
    el('h4', {}, w(lang, 'pub.page.gaps')),
    el('p', { class: 'gaps' }, page.gaps.length ? page.gaps.map((g) => (g.first === g.last ? `${g.first}` : `${g.first}–${g.last}`)).join(', ') : w(lang, 'pub.page.no_gaps')),
    el('h4', {}, w(lang, 'pub.page.events')),
    page.events.length
      ? el('ul', { class: 'recent' }, page.events.map((e) => el('li', {}, `${formatTime(e.occurred_at, lang)} · ${e.event_id ?? ''} · seq ${e.seq ?? '—'}`)))
      : el('p', {}, w(lang, 'pub.page.none')),
    el('h4', {}, w(lang, 'pub.page.letters')),
    page.deadLetters.length
      ? el('ul', { class: 'recent' }, page.deadLetters.map((d) => el('li', {}, `#${d.id} ${formatTime(d.received_at, lang)} · ${d.reason} · ${d.detail}`)))
      : el('p', {}, w(lang, 'pub.page.none')),
    el(
      'form',
      { class: 'actions', id: 'publisher-actions', onsubmit: (event) => event.preventDefault() },
      el('button', { type: 'button', id: 'act-toggle', onclick: () => act(disabled ? 'enable' : 'disable') }, w(lang, disabled ? 'pub.action.enable' : 'pub.action.disable')),
      el('label', {}, w(lang, 'pub.page.maintenance'), el('input', { name: 'until', type: 'datetime-local' })),
      el('label', {}, w(lang, 'pub.page.reason'), el('input', { name: 'reason', maxlength: 500 })),
      el('button', { type: 'button', id: 'act-maintenance', onclick: (e) => act('maintenance', e.target.form) }, w(lang, 'pub.action.maintenance')),
      p.maintenance ? el('button', { type: 'button', id: 'act-end-maintenance', onclick: () => act('end_maintenance') }, w(lang, 'pub.action.end_maintenance')) : null,
      el('label', {}, w(lang, 'pub.page.silent_after'), el('input', { name: 'seconds', type: 'number', min: 1, placeholder: w(lang, 'pub.action.default') })),
      el('button', { type: 'button', id: 'act-silent-after', onclick: (e) => act('silent_after', e.target.form) }, w(lang, 'pub.action.silent_after')),
    ),
  ];
}
