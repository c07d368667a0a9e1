import assert from 'node:assert/strict';
import { test } from 'node:test';

import { band, progress } from './measure.js';
import { appendPoint, fromHistory, sparkPath } from './sparkline.js';

const atLeast70 = { value: 70, direction: 'at_least' };
const atMost5 = { value: 5, direction: 'at_most' };

test('progress toward an at-least and an at-most target', () => {
  assert.equal(progress(35, atLeast70), 0.5);
  assert.equal(progress(90, atLeast70), 1);
  assert.equal(progress(4, atMost5), 1);
  assert.equal(progress(10, atMost5), 0.5);
  assert.equal(progress(null, atLeast70), null);
  assert.equal(progress(50, null), null);
});

test('colour bands: met, within 10 %, below', () => {
  assert.deepEqual([70, 63, 62.9, null].map((v) => band(v, atLeast70)), ['good', 'near', 'bad', 'none']);
  assert.equal(band(50, null), 'none');
});

const T0 = Date.parse('2026-11-27T04:00:00Z');
const MIN = 60_000;

test('history points become a series; live values replace the minute or extend it', () => {
  let series = fromHistory([
    { at: '2026-11-27T04:01:00Z', value: 2 },
    { at: '2026-11-27T04:00:00Z', value: 1 },
    { at: '2026-11-27T04:02:00Z', value: null },
  ]);
  assert.deepEqual(series, [[T0, 1], [T0 + MIN, 2]]);
  series = appendPoint(series, T0 + MIN + 30_000, 3);
  assert.deepEqual(series, [[T0, 1], [T0 + MIN + 30_000, 3]]);
  series = appendPoint(series, T0 + 2 * MIN, 4);
  assert.deepEqual(series, [[T0, 1], [T0 + MIN + 30_000, 3], [T0 + 2 * MIN, 4]]);
  const later = T0 + 61 * MIN + 45_000; // the first two points are now more than an hour old
  assert.deepEqual(appendPoint(series, later, 5), [[T0 + 2 * MIN, 4], [later, 5]]);
  assert.equal(appendPoint(series, T0 + 3 * MIN, null), series);
});

test('the path spans the hour and the value range', () => {
  const end = T0 + 60 * MIN;
  assert.equal(sparkPath([[T0, 0], [end, 10]], 100, 20, end), 'M0.0 20.0 L100.0 0.0');
  assert.equal(sparkPath([[T0 + 30 * MIN, 5], [end, 5]], 100, 20, end), 'M50.0 10.0 L100.0 10.0');
  assert.equal(sparkPath([[T0, 1]], 100, 20, end), '');
});
