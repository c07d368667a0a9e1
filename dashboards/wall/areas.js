// The area view: the chosen area's sub-areas as cells coloured by a KPI against its target, with drill-down.

import { el } from '../common/dom.js';
import { freshness, tileState } from '../common/freshness.js';
import { areaName, formatValue, label, t, unitLabel } from '../common/i18n.js';
import { windowFor } from './layout.js';
import { band } from './measure.js';

/** Indexes the tree of GET /api/v1/areas: code → area, code → parent code. */
export function indexAreas(roots) {
  const byCode = new Map();
  const parentOf = new Map();
  const visit = (area, parent) => {
    byCode.set(area.code, area);
    if (parent) parentOf.set(area.code, parent.code);
    for (const child of area.children) visit(child, area);
  };
  for (const root of roots) visit(root, null);
  return { byCode, parentOf };
}

function pathTo(areas, code) {
  const path = [];
  for (let at = code; at; at = areas.parentOf.get(at)) path.unshift(areas.byCode.get(at));
  return path;
}

/** onDrill(code) is called when a person picks a cell with sub-areas, or goes up a level. */
export function renderAreaView(ctx, view, nowMs, onDrill) {
  const { lang } = ctx;
  const entry = ctx.catalog.get(view.kpi);
  const window = windowFor(entry, view.window);
  const area = ctx.areas.byCode.get(ctx.drill ?? view.area) ?? ctx.areas.byCode.get(view.area);
  if (!area) {
    return el('p', { class: 'error-banner' }, `unknown area ${view.area}`);
  }
  const parent = ctx.areas.parentOf.get(area.code);
  const cells = (area.children.length ? area.children : [area]).map((child) => {
    const frame = ctx.book.get(view.kpi, child.code, window);
    const state = tileState(ctx.connection, freshness(frame, nowMs, view.staleAfterSeconds));
    const value = frame?.value ?? null;
    const below = child.children.length ? `${child.children.length} ${t(lang, 'areas.subareas')}` : '';
    const note = state === 'live' ? below : t(lang, `tile.${state}`);
    const shown = value === null ? '—' : `${formatValue(value, entry.unit, lang)} ${unitLabel(entry.unit, lang)}`;
    return el(
      'button',
      {
        type: 'button',
        class: `cell band-${band(value, entry.target_in_force)} state-${state}`,
        'data-area': child.code,
        onclick: () => child.children.length && onDrill(child.code),
      },
      el('span', { class: 'name' }, areaName(child, lang)),
      el('span', { class: 'cell-value' }, shown),
      el('span', { class: 'cell-note' }, note),
    );
  });
  return el(
    'section',
    { class: 'areas' },
    el(
      'div',
      { class: 'areas-head' },
      el('strong', {}, `${label(entry, lang)} · ${t(lang, `window.${window}`)}`),
      el('span', { class: 'crumbs' }, pathTo(ctx.areas, area.code).map((a) => areaName(a, lang)).join(' › ')),
      parent ? el('button', { type: 'button', onclick: () => onDrill(parent) }, `↑ ${t(lang, 'areas.up')}`) : null,
    ),
    el('div', { class: 'area-grid' }, cells),
  );
}
