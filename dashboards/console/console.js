// The on-call console (/console): the status board, incidents (alerts of one cause, acknowledged with a
// comment), publishers problems first with a publisher's
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
import { consoleActions } from './actions.js';
import { bulkBar, deadLetterRows, filterForm, filterParams, payloadView, restoreForm } from './dead_letters_panel.js';
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
  incidents: [], // one row per incident (the alerts of one cause)
  alerts: [], // their members
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

// The actions of the dead-letter and publisher panels (./actions.js), bound to this page.
const actions = consoleActions(ctx, {
  $,
  notice: (message, kind) => notice(message, kind),
  failed: (error) => failed(error),
  refresh: () => refresh(),
  render: () => render(),
});
const { replay, viewPayload, closePayload, onDeadFilter, replayAll, pick, act } = actions;

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
    const [status, incidents, alerts, deadLetters, publishers] = await Promise.all([
      ctx.api.get('/api/v1/system/status'),
      ctx.api.get('/api/v1/incidents', { state: ctx.alertStates }),
      ctx.api.get('/api/v1/alerts', { state: ctx.alertStates }),
      ctx.api.get('/api/v1/dead-letters', { ...filterParams(ctx.deadFilter), limit: 100 }),
      ctx.api.get('/api/v1/publishers'),
    ]);
    Object.assign(ctx, { status, incidents, alerts, deadLetters, publishers });
    ctx.problems = new Map(status.publishers.map((p) => [p.id, p]));
    render();
  } catch (error) {
    await failed(error);
  }
}

async function acknowledge(incident, comment) {
  try {
    const body = comment.trim() ? { comment: comment.trim() } : {};
    await ctx.api.post(`/api/v1/incidents/${incident.id}/acknowledge`, body);
    notice(`${t(ctx.lang, 'console.ack')}: ${t(ctx.lang, 'console.incident')} #${incident.id}`, 'good');
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
