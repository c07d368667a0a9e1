// A KPI view of the wall: one tile per KPI with value, unit, target and progress, sparkline and freshness.

import { el, svg } from '../common/dom.js';
import { freshness, shortAge, tileState } from '../common/freshness.js';
import { formatDate, formatValue, label, t, unitLabel } from '../common/i18n.js';
import { frameKey } from '../common/framebook.js';
import { windowFor } from './layout.js';
import { band, progress } from './measure.js';
import { sparkPath } from './sparkline.js';

const SPARK_WIDTH = 300;
const SPARK_HEIGHT = 60;

/** The (kpi, area, window) keys a KPI view shows, for its sparkline histories. */
export function tileKeys(ctx, view) {
  return view.kpis
    .filter((id) => ctx.catalog.has(id))
    .map((id) => ({ kpi: id, area: view.area, window: windowFor(ctx.catalog.get(id), view.window) }));
}

export function renderKpiView(ctx, view, nowMs) {
  return el('section', { class: 'tiles' }, tileKeys(ctx, view).map((key) => tile(ctx, view, key, nowMs)));
}

function tile(ctx, view, { kpi, area, window }, nowMs) {
  const { lang } = ctx;
  const entry = ctx.catalog.get(kpi);
  const frame = ctx.book.get(kpi, area, window);
  const fresh = freshness(frame, nowMs, view.staleAfterSeconds);
  const state = tileState(ctx.connection, fresh);
  const value = frame?.value ?? null;
  const target = entry.target_in_force;
  const badge = state === 'live' ? null : el('span', { class: 'badge' }, t(lang, `tile.${state}`));
  return el(
    'article',
    { class: `tile state-${state} band-${band(value, target)}`, 'data-kpi': kpi },
    el('header', {}, el('h3', {}, label(entry, lang)), el('span', { class: 'window' }, t(lang, `window.${window}`))),
    el(
      'div',
      { class: 'value' },
      el('span', { class: 'number' }, formatValue(value, entry.unit, lang)),
      value === null ? null : el('span', { class: 'unit' }, unitLabel(entry.unit, lang)),
      badge,
    ),
    targetLine(entry, value, lang),
    sparkline(ctx.series.get(frameKey(kpi, area, window)) ?? [], nowMs),
    el('footer', { class: 'fresh' }, `${t(lang, 'tile.updated')} ${shortAge(fresh.ageSeconds)}`),
  );
}

function targetLine(entry, value, lang) {
  const target = entry.target_in_force;
  if (!target) {
    return el('div', { class: 'target' }, t(lang, 'tile.no_target'));
  }
  const sign = target.direction === 'at_most' ? '≤' : '≥';
  const deadline = target.deadline ? ` · ${t(lang, 'tile.deadline')} ${formatDate(target.deadline, lang)}` : '';
  const fill = el('div', { class: 'fill' });
  fill.style.width = `${Math.round((progress(value, target) ?? 0) * 100)}%`; // CSSOM, allowed by the page's CSP
  return el(
    'div',
    { class: 'target' },
    `${t(lang, 'tile.target')} ${sign} ${formatValue(target.value, entry.unit, lang)} ${unitLabel(entry.unit, lang)}${deadline}`,
    el('div', { class: 'bar' }, fill),
  );
}

function sparkline(series, nowMs) {
  const box = svg('svg', { class: 'spark', viewBox: `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`, preserveAspectRatio: 'none' });
  box.append(svg('path', { d: sparkPath(series, SPARK_WIDTH, SPARK_HEIGHT, nowMs) }));
  return box;
}
