// The wall's playlist: parsed from layout.json, then overridden from the page URL (pure).

export const WINDOWS = ['5m', '1h', '24h', 'today', 'now'];
const KINDS = ['kpis', 'areas'];
const MIN_ROTATE_SECONDS = 5;

export class LayoutError extends Error {}

function need(condition, message) {
  if (!condition) {
    throw new LayoutError(message);
  }
}

function positiveNumber(value, name, minimum) {
  need(typeof value === 'number' && Number.isFinite(value) && value >= minimum, `${name} must be a number ≥ ${minimum}`);
  return value;
}

function parseView(raw, index, defaults) {
  const where = `views[${index}]`;
  need(raw !== null && typeof raw === 'object' && !Array.isArray(raw), `${where} must be an object`);
  need(typeof raw.id === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(raw.id), `${where}.id must be a lowercase id`);
  need(KINDS.includes(raw.kind), `${where}.kind must be one of ${KINDS.join(', ')}`);
  const window = raw.window ?? defaults.window;
  need(WINDOWS.includes(window), `${where}.window must be one of ${WINDOWS.join(', ')}`);
  const area = raw.area ?? defaults.area;
  need(typeof area === 'string' && area !== '', `${where}.area must be an area code`);
  // Sources report at their own pace (a village probe may report hourly): a view can wait longer before "stale".
  const staleAfterSeconds = positiveNumber(raw.stale_after_seconds ?? defaults.staleAfterSeconds, `${where}.stale_after_seconds`, 1);
  const view = {
    id: raw.id,
    kind: raw.kind,
    title_vi: typeof raw.title_vi === 'string' ? raw.title_vi : raw.id,
    title_en: typeof raw.title_en === 'string' ? raw.title_en : raw.id,
    area,
    window,
    staleAfterSeconds,
  };
  if (raw.kind === 'kpis') {
    need(Array.isArray(raw.kpis) && raw.kpis.length > 0, `${where}.kpis must list at least one KPI id`);
    need(raw.kpis.every((k) => typeof k === 'string' && k !== ''), `${where}.kpis must be KPI ids`);
    view.kpis = [...raw.kpis];
  } else {
    view.kpi = raw.kpi ?? 'coverage.usable_share';
    need(typeof view.kpi === 'string', `${where}.kpi must be a KPI id`);
  }
  return view;
}

/** A layout object (from layout.json); throws LayoutError naming the first problem. */
export function parseLayout(raw) {
  need(raw !== null && typeof raw === 'object' && !Array.isArray(raw), 'the layout must be a JSON object');
  const defaults = {
    area: raw.area ?? '67',
    window: raw.window ?? '1h',
    staleAfterSeconds: positiveNumber(raw.stale_after_seconds ?? 600, 'stale_after_seconds', 1),
  };
  need(Array.isArray(raw.views) && raw.views.length > 0, 'views must list at least one view');
  const views = raw.views.map((v, i) => parseView(v, i, defaults));
  const ids = new Set(views.map((v) => v.id));
  need(ids.size === views.length, 'view ids must be unique');
  return {
    rotateSeconds: positiveNumber(raw.rotate_seconds ?? 20, 'rotate_seconds', MIN_ROTATE_SECONDS),
    alertsPerPage: positiveNumber(raw.alerts_per_page ?? 4, 'alerts_per_page', 1),
    views,
  };
}

/**
 * The layout with the page URL's overrides: `rotate` (seconds; 0 stops the rotation), `views`
 * (comma-separated ids, in the order to play them), `area` and `window` (for every view).
 * An unknown view id or a bad value throws LayoutError: a wall that silently ignores its URL is worse.
 */
export function withOverrides(layout, params) {
  const out = { ...layout, views: layout.views.map((v) => ({ ...v })) };
  const rotate = params.get('rotate');
  if (rotate !== null) {
    const seconds = Number(rotate);
    need(seconds === 0 || (Number.isFinite(seconds) && seconds >= MIN_ROTATE_SECONDS), `rotate must be 0 or ≥ ${MIN_ROTATE_SECONDS}`);
    out.rotateSeconds = seconds;
  }
  const views = params.get('views');
  if (views !== null) {
    const byId = new Map(out.views.map((v) => [v.id, v]));
    const chosen = views.split(',').map((id) => id.trim()).filter((id) => id !== '');
    need(chosen.length > 0, 'views must name at least one view');
    for (const id of chosen) {
      need(byId.has(id), `unknown view '${id}'; the layout has ${[...byId.keys()].join(', ')}`);
    }
    out.views = chosen.map((id) => byId.get(id));
  }
  const area = params.get('area');
  if (area !== null) {
    need(/^[0-9A-Za-z._-]{1,32}$/.test(area), 'area must be an area code');
    out.views = out.views.map((v) => ({ ...v, area }));
  }
  const window = params.get('window');
  if (window !== null) {
    need(WINDOWS.includes(window), `window must be one of ${WINDOWS.join(', ')}`);
    out.views = out.views.map((v) => ({ ...v, window }));
  }
  return out;
}

/** The view to show at a moment: the playlist advances every `rotateSeconds` (0: the first view stays). */
export function viewAt(layout, elapsedSeconds) {
  if (layout.rotateSeconds === 0) {
    return layout.views[0];
  }
  return layout.views[Math.floor(elapsedSeconds / layout.rotateSeconds) % layout.views.length];
}

/** The window a KPI is shown in: the view's, unless the KPI has only others (a gauge has only `now`). */
export function windowFor(entry, wanted) {
  return entry.windows.includes(wanted) ? wanted : entry.windows[0];
}

/**
 * The KPI ids and windows the layout shows, for the websocket subscription; throws LayoutError for
 * a KPI the catalog (a Map of id → entry from GET /api/v1/kpis) does not have.
 */
export function subscription(layout, catalog) {
  const kpis = new Set();
  const windows = new Set();
  for (const view of layout.views) {
    for (const kpi of view.kind === 'kpis' ? view.kpis : [view.kpi]) {
      need(catalog.has(kpi), `view '${view.id}' names KPI '${kpi}', which the catalog does not have`);
      kpis.add(kpi);
      windows.add(windowFor(catalog.get(kpi), view.window));
    }
  }
  return { kpis: [...kpis].sort(), windows: [...windows].sort() };
}
