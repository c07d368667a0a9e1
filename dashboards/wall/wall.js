// The wall (/wall): loads the layout, the catalog and the areas, then follows /ws/kpis and shows the
// playlist's views in turn, the alert strip and the connection state. No number is ever shown as live
// while the connection is down or its data stale (see ../common/freshness.js).

import { Api, ApiError } from '../common/api.js';
import { fill } from '../common/dom.js';
import { FrameBook, frameKey } from '../common/framebook.js';
import { t } from '../common/i18n.js';
import { obtainKey, replaceRefusedKey } from '../common/keygate.js';
import { initialLanguage, toggleLanguage } from '../common/language.js';
import { LiveConnection } from '../common/live.js';
import { indexAreas, renderAreaView } from './areas.js';
import { parseLayout, subscription, viewAt, withOverrides } from './layout.js';
import { appendPoint, fromHistory, SPAN_MS } from './sparkline.js';
import { renderAlertStrip } from './strip.js';
import { renderKpiView, tileKeys } from './tiles.js';

const PAGE = 'wall';
const ALERTS_POLL_MS = 15_000;
const ALERT_PAGE_MS = 8_000;
const HISTORY_REFRESH_MS = 10 * 60_000;
const DRILL_PAUSE_SECONDS = 120; // a person who drills down keeps the view that long
const $ = (id) => document.getElementById(id);

const ctx = {
  lang: 'vi',
  layout: null,
  api: null,
  catalog: new Map(),
  areas: { byCode: new Map(), parentOf: new Map() },
  book: new FrameBook(),
  connection: 'connecting',
  series: new Map(),
  historyLoaded: new Map(),
  incidents: [], // one line per incident on the strip
  alertStep: 0,
  elapsed: 0,
  pausedUntil: 0,
  drill: null,
  viewId: null,
};

function applyLanguage() {
  document.documentElement.lang = ctx.lang;
  document.title = t(ctx.lang, 'title.wall');
  $('title').textContent = t(ctx.lang, 'title.wall');
  $('lang').textContent = t(ctx.lang, 'lang.switch');
  showConnection(ctx.connection);
}

function showConnection(state) {
  ctx.connection = state;
  const badge = $('conn');
  badge.className = `conn ${state}`;
  badge.textContent = t(ctx.lang, `conn.${state}`);
}

function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message ?? '';
}

async function withKeyRetry(load) {
  for (;;) {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      await replaceKey();
    }
  }
}

/** The key was refused (or revoked while live): say so plainly, ask for another and start again with it. */
async function replaceKey(state = 'unauthorized') {
  showConnection(state);
  ctx.api = new Api(await replaceRefusedKey(PAGE, $('keygate'), ctx.lang));
}

async function loadReference() {
  const [catalog, areas] = await Promise.all([ctx.api.get('/api/v1/kpis'), ctx.api.get('/api/v1/areas')]);
  ctx.catalog = new Map(catalog.map((entry) => [entry.id, entry]));
  ctx.areas = indexAreas(areas);
}

async function loadLayout() {
  const response = await fetch('/ui/wall/layout.json', { cache: 'no-cache' });
  return withOverrides(parseLayout(await response.json()), new URLSearchParams(window.location.search));
}

function currentView() {
  return viewAt(ctx.layout, ctx.elapsed);
}

function onMessage(message) {
  const change = ctx.book.apply(message);
  if (!change) return;
  for (const frame of change.frames) {
    const key = frameKey(frame.kpi, frame.area, frame.window);
    const series = ctx.series.get(key);
    if (series) ctx.series.set(key, appendPoint(series, Date.parse(frame.as_of), frame.value));
  }
  render();
}

async function loadHistories(view) {
  if (view.kind !== 'kpis') return;
  const now = Date.now();
  const due = tileKeys(ctx, view).filter((k) => (ctx.historyLoaded.get(frameKey(k.kpi, k.area, k.window)) ?? 0) < now - HISTORY_REFRESH_MS);
  await Promise.all(
    due.map(async ({ kpi, area, window }) => {
      const key = frameKey(kpi, area, window);
      ctx.historyLoaded.set(key, now);
      const params = { kpi, area, window, bucket: '1m', from: new Date(now - SPAN_MS).toISOString(), to: new Date(now + 60_000).toISOString() };
      try {
        const history = await ctx.api.get('/api/v1/kpis/history', params);
        let series = fromHistory(history.points);
        const frame = ctx.book.get(kpi, area, window);
        if (frame) series = appendPoint(series, Date.parse(frame.as_of), frame.value);
        ctx.series.set(key, series);
      } catch {
        ctx.historyLoaded.delete(key); // tried again at the next tick
      }
    }),
  );
  render();
}

async function pollAlerts() {
  try {
    ctx.incidents = await ctx.api.get('/api/v1/incidents', { state: ['open', 'acknowledged'] });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      ctx.live.stop();
      await replaceKey();
      window.location.reload();
    }
    // Otherwise keep the alerts we have: the connection badge already says when the API is away.
  }
  fill($('alerts'), renderAlertStrip(ctx, Date.now()));
}

function drill(code) {
  ctx.drill = code;
  ctx.pausedUntil = Date.now() + DRILL_PAUSE_SECONDS * 1000;
  render();
}

function render() {
  if (!ctx.layout || ctx.catalog.size === 0) return; // not loaded yet
  const view = currentView();
  const now = Date.now();
  $('view-title').textContent = ctx.lang === 'en' ? view.title_en : view.title_vi;
  fill($('view'), view.kind === 'kpis' ? renderKpiView(ctx, view, now) : renderAreaView(ctx, view, now, drill));
}

function tick() {
  if (Date.now() >= ctx.pausedUntil) ctx.elapsed += 1;
  const view = currentView();
  if (view.id !== ctx.viewId) {
    ctx.viewId = view.id;
    ctx.drill = null;
    loadHistories(view);
  }
  $('clock').textContent = new Intl.DateTimeFormat(ctx.lang === 'en' ? 'en-GB' : 'vi-VN', {
    timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).format(new Date());
  render();
}

async function main() {
  ctx.lang = initialLanguage();
  applyLanguage();
  $('lang').addEventListener('click', () => {
    ctx.lang = toggleLanguage(ctx.lang);
    applyLanguage();
    render();
    fill($('alerts'), renderAlertStrip(ctx, Date.now()));
  });
  try {
    ctx.layout = await loadLayout();
  } catch (error) {
    showError(`layout: ${error.message}`);
    return;
  }
  ctx.api = new Api(await obtainKey(PAGE, $('keygate'), ctx.lang, () => showConnection('needs_key')));
  for (;;) {
    try {
      await withKeyRetry(loadReference);
      break;
    } catch (error) {
      showError(error.message); // the API is away: try again, the badge says we are not live
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
  showError(null);
  let wanted;
  try {
    wanted = subscription(ctx.layout, ctx.catalog);
  } catch (error) {
    showError(`layout: ${error.message}`);
    return;
  }
  ctx.live = new LiveConnection({
    api: ctx.api,
    path: '/ws/kpis',
    subscribe: () => {
      const resume = ctx.book.resumeFrom();
      return { type: 'subscribe', kpis: wanted.kpis, areas: '*', windows: wanted.windows, ...(resume ? { resume } : {}) };
    },
    liveOn: ['snapshot', 'resumed'],
    onMessage,
    onState: async (state) => {
      showConnection(state);
      render();
      if (state === 'unauthorized' || state === 'revoked') {
        await replaceKey(state);
        window.location.reload();
      }
    },
  });
  ctx.live.start();
  tick();
  setInterval(tick, 1000);
  pollAlerts();
  setInterval(pollAlerts, ALERTS_POLL_MS);
  setInterval(() => {
    ctx.alertStep += 1;
    fill($('alerts'), renderAlertStrip(ctx, Date.now()));
  }, ALERT_PAGE_MS);
}

main();
