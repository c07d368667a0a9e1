import assert from 'node:assert/strict';
import { test } from 'node:test';

import { takeKeyFromHash } from './fragment.js';
import { STRINGS, formatDate, formatValue, t, unitLabel } from './i18n.js';
import { reconnectDelayMs } from './reconnect.js';

test('the key is taken from the fragment and removed from it', () => {
  assert.deepEqual(takeKeyFromHash('#key=ioc_ab_cd'), { key: 'ioc_ab_cd', hash: '' });
  assert.deepEqual(takeKeyFromHash('#lang=en&key=ioc_ab_cd'), { key: 'ioc_ab_cd', hash: '#lang=en' });
  assert.deepEqual(takeKeyFromHash(''), { key: null, hash: '' });
  assert.deepEqual(takeKeyFromHash('#key='), { key: null, hash: '' });
});

test('both languages have every string', () => {
  assert.deepEqual(Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.vi).sort());
  assert.equal(t('en', 'conn.live'), 'Live');
  assert.equal(t('vi', 'conn.live'), 'Trực tiếp');
  assert.equal(t('vi', 'no.such.key'), 'no.such.key');
});

test('values are formatted for a tile in each language', () => {
  assert.equal(formatValue(71.26, '%', 'en'), '71.3');
  assert.equal(formatValue(71.26, '%', 'vi'), '71,3');
  assert.equal(formatValue(2_500_000_000, 'VND', 'vi'), '2,5 tỷ');
  assert.equal(formatValue(2_500_000_000, 'VND', 'en'), '2.5 B');
  assert.equal(formatValue(12_300_000, 'VND', 'en'), '12.3 M');
  assert.equal(formatValue(1234, 'transactions', 'en'), '1,234');
  assert.equal(formatValue(null, '%', 'en'), '—');
  assert.equal(unitLabel('dossiers', 'vi'), 'hồ sơ');
  assert.equal(unitLabel('dossiers', 'en'), 'dossiers');
  assert.equal(formatDate('2022-09-30', 'vi'), '30/09/2022');
});

test('reconnection backs off from 0.5 s to 15 s with bounded jitter', () => {
  assert.deepEqual([0, 1, 2, 5, 10].map((n) => reconnectDelayMs(n, () => 0)), [500, 1000, 2000, 15000, 15000]);
  assert.equal(reconnectDelayMs(0, () => 1), 625);
});

test('times are local (UTC+7), with the date when not today', async () => {
  const { formatTime } = await import('./i18n.js');
  const now = Date.parse('2026-11-27T05:00:00Z'); // 12:00 in Đắk Nông
  assert.equal(formatTime('2026-11-27T04:59:58Z', 'en', now), '11:59:58');
  assert.equal(formatTime('2026-11-26T16:59:00Z', 'vi', now), '26/11/2026 23:59:00');
  assert.equal(formatTime(null, 'vi', now), '—');
});
