// The on-call console (/console): the status board, alerts, publishers problems first with a publisher's
// page, dead letters (payload, replay of one or of all a filter matches, CSV export) and the live event
// tail over /ws/events. Actions need a key of the scope the API asks for; a lower one is told so by the
// API's 403 message, shown as it is.

import { Api, ApiError } from '../common/api.js';
import { fill } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { obtainKey, replaceRefusedKey } from '../common/keygate.js';
import { forgetKey } from '../common/keystore.js';
import { initialLanguage, toggleLanguage } from '../common/language.js';
import { LiveConnection } from '../common/live.js';
import { alertFilter, alertRows, chosenStates } from './alerts_panel.js';
import { bulkBar, deadLetterRows, filterForm, filterParams, formValues, payloadView, restoreForm } from './dead_letters_panel.js';
import { publisherPage, publisherRows } from './publishers_panel.js';
import { statusCards } from './status_board.js';
import { tailRows } from './tables.js';
import { lastSeen, tailSubscription } from './tail.js';
import { w } from './words.js';

const PAGE = 'console';
const REFRESH_MS = 10_000;
const TAIL_ROWS = 500;
const $ = (id) => document.getElementById(id);

const ctx = {
  lang: 'vi',
  api: null,
  areas: new Map(),
  status: null,
  problems: new Map(), // publisher id -> its entry of the status board's `publishers`
  alerts: [],
  alertStates: ['open', 'acknowledged'],
  deadLetters: [],
  deadFilter: {},
  preview: null, // {open, matching, params} of the last count
  payload: null,
  publishers: [],
  publisherFilter: {},
  picked: null,
  page: null,
  lastSeen: new Map(),
  tail: [],
  paused: false,
  sampled: 0,
  connection: 'connecting',
  subscription: tailSubscription({}),
};

function notice(message, kind) {
  $('notice').className = `notice ${kind ?? ''}`;
  $('notice').textContent = message ?? '';
}

function showConnection(state) {
  ctx.connection = state;
  $('conn').className = `conn ${state}`;
  $('conn').textContent = t(ctx.lang, `conn.${state}`);
}

function applyLanguage() {
  document.documentElement.lang = ctx.lang;
  document.title = t(ctx.lang, 'title.console');
  $('title').textContent = t(ctx.lang, 'title.console');
  $('lang').textContent = t(ctx.lang, 'lang.switch');
  $('forget').textContent = t(ctx.lang, 'key.forget');
  $('status-title').textContent = w(ctx.lang, 'status.title');
  $('alerts-title').textContent = t(ctx.lang, 'console.alerts');
  $('dead-title').textContent = t(ctx.lang, 'console.dead_letters');
  $('publishers-title').textContent = t(ctx.lang, 'console.publishers');
  $('publisher-page-title').textContent = ctx.page ? w(ctx.lang, 'pub.page.title', { id: ctx.page.publisher.id }) : t(ctx.lang, 'console.publishers');
  $('tail-title').textContent = t(ctx.lang, 'console.tail');
  for (const node of document.querySelectorAll('[data-text]')) node.textContent = t(ctx.lang, node.dataset.text);
  for (const node of document.querySelectorAll('[data-word]')) node.textContent = w(ctx.lang, node.dataset.word);
  $('pause').textContent = t(ctx.lang, ctx.paused ? 'console.resume' : 'console.pause');
  fill($('alert-filter-host'), alertFilter(ctx.lang, ctx.alertStates, onAlertStates));
  const form = filterForm(ctx.lang, onDeadFilter);
  fill($('dead-filter-host'), form);
  restoreForm(form, ctx.deadFilter);
  showConnection(ctx.connection);
  render();
}

function render() {
  fill($('status-cards'), statusCards(ctx.lang, ctx.status));
  fill($('alerts-table'), alertRows(ctx, { onAck: acknowledge, onArea: showArea, onPublisher: showPublisher }));
  fill($('dead-table'), deadLetterRows(ctx, replay, viewPayload));
  fill($('dead-bulk'), bulkBar(ctx.lang, ctx.preview, replayAll));
  fill($('payload-viewer'), payloadView(ctx.lang, ctx.payload, closePayload));
  fill($('publishers-table'), publisherRows(ctx, pick));
  fill($('publisher-page'), publisherPage(ctx, ctx.page, act));
}

function renderTail() {
  fill($('tail-table'), tailRows(ctx));
  $('sampled').textContent = ctx.sampled ? `${ctx.sampled} ${t(ctx.lang, 'console.sampled')}` : '';
}

/** A refused key (or one revoked while live): say so, ask for another, start again with it. */
async function replaceKey(state = 'unauthorized') {
  ctx.live?.stop();
  showConnection(state);
  await replaceRefusedKey(PAGE, $('keygate'), ctx.lang);
  window.location.reload();
}

async function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    await replaceKey();
    return;
  }
  // 400 (a filter refused), 403 (scope too low), 404, 409 (count changed), 503: the API's own message says what happened.
  notice(`${error.status ? `${error.status} ` : ''}${error.message}`, 'bad');
}

async function refresh() {
  try {
    const [status, alerts, deadLetters, publishers] = await Promise.all([
      ctx.api.get('/api/v1/system/status'),
      ctx.api.get('/api/v1/alerts', { state: ctx.alertStates }),
      ctx.api.get('/api/v1/dead-letters', { ...filterParams(ctx.deadFilter), limit: 100 }),
      ctx.api.get('/api/v1/publishers'),
    ]);
    Object.assign(ctx, { status, alerts, deadLetters, publishers });
    ctx.problems = new Map(status.publishers.map((p) => [p.id, p]));
    render();
  } catch (error) {
    await failed(error);
  }
}

async function acknowledge(alert) {
  try {
    await ctx.api.post(`/api/v1/alerts/${alert.id}/ack`);
    notice(`${t(ctx.lang, 'console.ack')}: #${alert.id}`, 'good');
  } catch (error) {
    await failed(error);
  }
  await refresh();
}

function onAlertStates(form) {
  ctx.alertStates = chosenStates(form);
  refresh();
}

function showArea(code) {
  ctx.publisherFilter = { ...ctx.publisherFilter, area: code, text: '' };
  $('publisher-filters').area.value = code;
  $('publisher-filters').text.value = '';
  render();
}

async function showPublisher(id) {
  const publisher = ctx.publishers.find((p) => p.id === id);
  if (publisher) await pick(publisher);
}

async function replay(deadLetter) {
  try {
    const outcome = await ctx.api.post(`/api/v1/dead-letters/${deadLetter.id}/replay`);
    notice(`${t(ctx.lang, 'console.replay')} #${outcome.id}: ${outcome.status} — ${outcome.detail}`, outcome.status === 'rejected' ? 'bad' : 'good');
  } catch (error) {
    await failed(error);
  }
  await refresh();
}

function closePayload() {
  ctx.payload = null;
  render();
}

async function viewPayload(deadLetter) {
  try {
    ctx.payload = await ctx.api.get(`/api/v1/dead-letters/${deadLetter.id}/payload`);
    render();
    $('payload-viewer').scrollIntoView({ block: 'nearest' });
  } catch (error) {
    await failed(error);
  }
}

/** The filter form's buttons: apply (list), count (then offer the replay of what it counts), export. */
async function onDeadFilter(action) {
  ctx.deadFilter = formValues($('dead-filters'));
  const params = filterParams(ctx.deadFilter);
  try {
    if (action === 'count') {
      const counted = await ctx.api.get('/api/v1/dead-letters/count', params);
      ctx.preview = { ...counted, params };
      render();
    } else if (action === 'export') {
      await exportCsv(params);
    } else {
      ctx.preview = null;
      notice(null);
      await refresh();
    }
  } catch (error) {
    await failed(error);
  }
}

async function replayAll(preview) {
  const { reason, publisher, since, until } = preview.params;
  try {
    const done = await ctx.api.post('/api/v1/dead-letters/replay', { reason, publisher, since, until, expected: preview.open });
    notice(w(ctx.lang, 'dl.replay_all.done', done), done.rejected ? 'bad' : 'good');
    ctx.preview = null;
  } catch (error) {
    await failed(error);
  }
  await refresh();
}

async function exportCsv(params) {
  const { text, headers } = await ctx.api.text('/api/v1/dead-letters/export.csv', params);
  const file = /filename="([^"]+)"/.exec(headers.get('content-disposition') ?? '')?.[1] ?? 'dead-letters.csv';
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  link.download = file;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  const rows = text.split('\r\n').filter(Boolean).length - 1; // a quoted cell may hold \n, never \r\n
  notice(w(ctx.lang, 'dl.exported', { n: rows, file }), 'good');
}

async function pick(publisher) {
  ctx.picked = publisher.id;
  try {
    const [gaps, events, deadLetters] = await Promise.all([
      ctx.api.get(`/api/v1/publishers/${encodeURIComponent(publisher.id)}/gaps`),
      ctx.api.get(`/api/v1/events/${publisher.source}`, { publisher: publisher.id, limit: 10 }),
      ctx.api.get('/api/v1/dead-letters', { publisher: publisher.id, include_resolved: 'true', limit: 10 }),
    ]);
    ctx.page = { publisher, gaps, events: events.events, deadLetters };
  } catch (error) {
    await failed(error);
  }
  $('publisher-page-title').textContent = w(ctx.lang, 'pub.page.title', { id: publisher.id });
  render();
}

/** A publisher action (issue 22 item 3's routes, scope admin); the API's message on refusal. */
async function act(kind, form) {
  const id = encodeURIComponent(ctx.page.publisher.id);
  const path = `/api/v1/publishers/${id}`;
  try {
    if (kind === 'disable' || kind === 'enable') await ctx.api.post(`${path}/${kind}`);
    else if (kind === 'end_maintenance') await ctx.api.delete(`${path}/maintenance`);
    else if (kind === 'maintenance') {
      const until = form.until.value ? new Date(form.until.value).toISOString() : '';
      await ctx.api.put(`${path}/maintenance`, { until, reason: form.reason.value });
    } else if (kind === 'silent_after') {
      await ctx.api.put(`${path}/silent-after`, { seconds: form.seconds.value ? Number(form.seconds.value) : null });
    }
    notice(`${w(ctx.lang, 'pub.action.done')}: ${ctx.page.publisher.id}`, 'good');
  } catch (error) {
    await failed(error);
  }
  await refresh();
  const again = ctx.publishers.find((p) => p.id === ctx.picked);
  if (again) await pick(again);
}

function onMessage(message) {
  if (message.type === 'events') {
    ctx.lastSeen = lastSeen(ctx.lastSeen, message.events);
    if (!ctx.paused) {
      ctx.tail = [...message.events.reverse(), ...ctx.tail].slice(0, TAIL_ROWS);
      renderTail();
    }
  } else if (message.type === 'sampled') {
    ctx.sampled += message.dropped;
    renderTail();
  }
}

function bindControls() {
  $('lang').addEventListener('click', () => {
    ctx.lang = toggleLanguage(ctx.lang);
    applyLanguage();
    renderTail();
  });
  $('forget').addEventListener('click', () => {
    forgetKey(PAGE);
    window.location.reload();
  });
  $('pause').addEventListener('click', () => {
    ctx.paused = !ctx.paused;
    $('pause').textContent = t(ctx.lang, ctx.paused ? 'console.resume' : 'console.pause');
  });
  $('publisher-filters').addEventListener('input', (event) => {
    ctx.publisherFilter = Object.fromEntries(new FormData(event.currentTarget));
    render();
  });
  $('publisher-filters').addEventListener('submit', (event) => event.preventDefault());
  $('tail-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      ctx.subscription = tailSubscription(Object.fromEntries(new FormData(event.target)));
    } catch (error) {
      notice(error.message, 'bad');
      return;
    }
    notice(null);
    ctx.tail = [];
    ctx.sampled = 0;
    renderTail();
    ctx.live.restart();
  });
}

async function main() {
  ctx.lang = initialLanguage();
  bindControls();
  applyLanguage();
  ctx.api = new Api(await obtainKey(PAGE, $('keygate'), ctx.lang, () => showConnection('needs_key')));
  try {
    const roots = await ctx.api.get('/api/v1/areas');
    const visit = (a) => {
      ctx.areas.set(a.code, a);
      a.children.forEach(visit);
    };
    roots.forEach(visit);
  } catch (error) {
    await failed(error);
  }
  ctx.live = new LiveConnection({
    api: ctx.api,
    path: '/ws/events',
    subscribe: () => ctx.subscription,
    liveOn: ['subscribed'],
    onMessage,
    onState: async (state, detail) => {
      showConnection(state);
      if (detail) $('key-name').textContent = detail;
      if (state === 'unauthorized' || state === 'revoked') await replaceKey(state);
    },
  });
  ctx.live.start();
  renderTail();
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

main();
