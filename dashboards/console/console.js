// The on-call console (/console): incidents (alerts of one cause) with acknowledge and a comment, dead letters with replay, publishers, and
// the live event tail over /ws/events. Acknowledge and replay need a key of scope `operate`; with a
// `read` key the API's 403 message is shown as it is.

import { Api, ApiError } from '../common/api.js';
import { fill } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { obtainKey, replaceRefusedKey } from '../common/keygate.js';
import { forgetKey } from '../common/keystore.js';
import { initialLanguage, toggleLanguage } from '../common/language.js';
import { LiveConnection } from '../common/live.js';
import { alertRows, deadLetterRows, publisherRows, tailRows } from './tables.js';
import { lastSeen, tailSubscription } from './tail.js';

const PAGE = 'console';
const REFRESH_MS = 10_000;
const TAIL_ROWS = 500;
const $ = (id) => document.getElementById(id);

const ctx = {
  lang: 'vi',
  api: null,
  areas: new Map(),
  incidents: [], // one row per incident
  alerts: [], // their members
  deadLetters: [],
  publishers: [],
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
  $('alerts-title').textContent = t(ctx.lang, 'console.alerts');
  $('dead-title').textContent = t(ctx.lang, 'console.dead_letters');
  $('publishers-title').textContent = t(ctx.lang, 'console.publishers');
  $('tail-title').textContent = t(ctx.lang, 'console.tail');
  for (const node of document.querySelectorAll('[data-text]')) node.textContent = t(ctx.lang, node.dataset.text);
  $('pause').textContent = t(ctx.lang, ctx.paused ? 'console.resume' : 'console.pause');
  showConnection(ctx.connection);
  renderTables();
}

function renderTables() {
  fill($('alerts-table'), alertRows(ctx, acknowledge));
  fill($('dead-table'), deadLetterRows(ctx, replay));
  fill($('publishers-table'), publisherRows(ctx));
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
  // 403 (scope too low), 404 (already acknowledged or gone), 503: the API's own message says what happened.
  notice(`${error.status ? `${error.status} ` : ''}${error.message}`, 'bad');
}

async function refresh() {
  try {
    const [incidents, alerts, deadLetters, publishers] = await Promise.all([
      ctx.api.get('/api/v1/incidents', { state: ['open', 'acknowledged'] }),
      ctx.api.get('/api/v1/alerts', { state: ['open', 'acknowledged'] }),
      ctx.api.get('/api/v1/dead-letters', { limit: 100 }),
      ctx.api.get('/api/v1/publishers'),
    ]);
    Object.assign(ctx, { incidents, alerts, deadLetters, publishers });
    renderTables();
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

async function replay(deadLetter) {
  try {
    const outcome = await ctx.api.post(`/api/v1/dead-letters/${deadLetter.id}/replay`);
    notice(`${t(ctx.lang, 'console.replay')} #${outcome.id}: ${outcome.status} — ${outcome.detail}`, outcome.status === 'rejected' ? 'bad' : 'good');
  } catch (error) {
    await failed(error);
  }
  await refresh();
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
