import assert from 'node:assert/strict';
import { test } from 'node:test';

import { freshness, shortAge, tileState } from './freshness.js';

const NOW = Date.parse('2026-11-27T05:00:00Z');
const frame = (value, lastEventAt, asOf = '2026-11-27T05:00:00Z') => ({ value, last_event_at: lastEventAt, as_of: asOf });

test('fresh up to the threshold, stale past it', () => {
  assert.deepEqual(freshness(frame(70, '2026-11-27T04:50:00Z'), NOW, 600), { state: 'fresh', ageSeconds: 600 });
  assert.deepEqual(freshness(frame(70, '2026-11-27T04:49:59Z'), NOW, 600), { state: 'stale', ageSeconds: 601 });
});

test('no value is no data, whatever the time', () => {
  assert.deepEqual(freshness(frame(null, '2026-11-27T04:59:00Z'), NOW), { state: 'nodata', ageSeconds: null });
  assert.deepEqual(freshness(undefined, NOW), { state: 'nodata', ageSeconds: null });
});

test('a gauge without an event time is as old as its computation', () => {
  assert.deepEqual(freshness(frame(3, null, '2026-11-27T04:59:30Z'), NOW, 600), { state: 'fresh', ageSeconds: 30 });
});

test('an event stamped ahead of the clock is not negative age', () => {
  assert.deepEqual(freshness(frame(1, '2026-11-27T05:01:00Z'), NOW, 600), { state: 'fresh', ageSeconds: 0 });
});

test('a tile is live only when the connection is live and the data fresh', () => {
  const fresh = { state: 'fresh', ageSeconds: 1 };
  assert.equal(tileState('live', fresh), 'live');
  assert.equal(tileState('reconnecting', fresh), 'offline');
  assert.equal(tileState('unauthorized', fresh), 'offline');
  assert.equal(tileState('live', { state: 'stale', ageSeconds: 900 }), 'stale');
  assert.equal(tileState('live', { state: 'nodata', ageSeconds: null }), 'nodata');
});

test('ages are short', () => {
  assert.deepEqual([null, 0, 59, 60, 3599, 3600, 86399, 86400].map(shortAge), ['—', '0 s', '59 s', '1 min', '59 min', '1 h', '23 h', '1 d']);
});
