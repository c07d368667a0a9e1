// The console's publisher order and filters, and the status board's words (pure).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesFilter, publisherStatus, rankPublishers } from './publishers_panel.js';
import { filterParams } from './dead_letters_panel.js';
import { statusLine, w } from './words.js';

const P = (id, extra = {}) => ({ id, source: 'payments', area_code: '24611', description: '', status: 'online', ...extra });

test('a silent publisher is never online, whatever its last will said', () => {
  assert.equal(publisherStatus(P('a'), { silent: true }), 'silent');
  assert.equal(publisherStatus(P('a', { silent: true, status: 'silent' })), 'silent');
  assert.equal(publisherStatus(P('a', { state: 'maintenance', silent: true })), 'maintenance');
  assert.equal(publisherStatus(P('a', { disabled_at: '2026-12-01T00:00:00Z' }), { silent: true }), 'disabled');
  assert.equal(publisherStatus(P('a')), 'online');
});

test('problems first: silent, then seq gaps, then dead letters, then the rest, disabled last', () => {
  const problems = new Map([
    ['gaps', { missing: 2 }],
    ['letters', { open_dead_letters: 1 }],
    ['quiet', { silent: true }],
  ]);
  const list = [P('ok'), P('off', { disabled_at: 'x' }), P('letters'), P('gaps'), P('quiet'), P('aa')];
  assert.deepEqual(rankPublishers(list, problems).map((p) => p.id), ['quiet', 'gaps', 'letters', 'aa', 'ok', 'off']);
});

test('filters by state, area and text', () => {
  const areas = new Map([['24612', { name_en: 'Nghia Thanh Ward', name_vi: 'Nghĩa Thành' }]]);
  const p = P('pay-7', { area_code: '24612', description: 'hospital counter' });
  assert.equal(matchesFilter(p, { silent: true }, { state: 'silent' }, areas, 'en'), true);
  assert.equal(matchesFilter(p, undefined, { state: 'silent' }, areas, 'en'), false);
  assert.equal(matchesFilter(p, undefined, { state: 'problems' }, areas, 'en'), false);
  assert.equal(matchesFilter(p, undefined, { area: 'thanh' }, areas, 'en'), true);
  assert.equal(matchesFilter(p, undefined, { area: '2461' }, areas, 'en'), true);
  assert.equal(matchesFilter(p, undefined, { area: '24611' }, areas, 'en'), false);
  assert.equal(matchesFilter(p, undefined, { text: 'HOSPITAL' }, areas, 'en'), true);
  assert.equal(matchesFilter(p, undefined, { text: 'desk' }, areas, 'en'), false);
});

test('dead-letter filter values become the API parameters, times with their offset', () => {
  const params = filterParams({ reason: 'not_json', publisher: ' pay-1 ', since: '2026-12-01T10:00', until: '', include_resolved: true });
  assert.deepEqual(Object.keys(params), ['reason', 'publisher', 'since', 'include_resolved']);
  assert.equal(params.publisher, 'pay-1');
  assert.match(params.since, /^2026-12-0[12]T\d\d:00:00\.000Z$/);
  assert.deepEqual(filterParams({ reason: '', publisher: '', since: '', until: '' }), {});
});

test('status lines in both languages', () => {
  const silent = { name: 'silent_publishers', level: 'problem', value: 6, subjects: ['a', 'b', 'c', 'd', 'e', 'f'], reason: '' };
  assert.equal(statusLine(silent, 'en'), '6 silent: a, b, c, d +2');
  assert.equal(statusLine(silent, 'vi'), '6 im lặng: a, b, c, d +2');
  const burst = { name: 'dead_letter_burst', level: 'problem', value: 30, subjects: [], reason: '' };
  assert.equal(statusLine(burst, 'vi'), '30 thư lỗi trong 5 phút — đột biến');
  const redis = { name: 'engine', level: 'problem', value: null, subjects: [], reason: 'Redis cannot be read (ConnectionError)' };
  assert.equal(statusLine(redis, 'en'), 'Redis cannot be read');
  assert.equal(w('en', 'dl.replay_all', { n: 3 }), 'Replay 3');
  assert.equal(w('en', 'missing.key'), 'missing.key');
});
