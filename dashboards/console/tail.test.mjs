import assert from 'node:assert/strict';
import { test } from 'node:test';

import { lastSeen, summarize, tailSubscription } from './tail.js';

test('no filter: everything, at the default rate', () => {
  assert.deepEqual(tailSubscription({}), { type: 'subscribe', types: '*', areas: '*', publishers: '*', max_per_second: 50 });
});

test('a source selects its event type; lists are split; the rate is bounded', () => {
  assert.deepEqual(tailSubscription({ source: 'payments', areas: '24611, 24612', publishers: 'pay-1', maxPerSecond: '500' }), {
    type: 'subscribe',
    types: ['transaction'],
    areas: ['24611', '24612'],
    publishers: ['pay-1'],
    max_per_second: 200,
  });
  assert.deepEqual(tailSubscription({ type: 'dead_letter', maxPerSecond: 0 }).types, ['dead_letter']);
  assert.equal(tailSubscription({ maxPerSecond: 0 }).max_per_second, 50);
  assert.equal(tailSubscription({ maxPerSecond: -3 }).max_per_second, 1);
});

test('a source and a type that exclude each other are refused', () => {
  assert.throws(() => tailSubscription({ source: 'portal', type: 'sample' }), /source 'portal' has no events of type 'sample'/);
  assert.deepEqual(tailSubscription({ source: 'portal', type: 'dossier' }).types, ['dossier']);
  assert.throws(() => tailSubscription({ source: 'tv' }), /unknown source 'tv'/);
});

test('one line per event type', () => {
  assert.equal(summarize({ type: 'transaction', sector: 'health', method: 'qr', amount_vnd: 150000, outcome: 'succeeded' }), 'health · qr · 150000 VND · succeeded');
  assert.equal(summarize({ type: 'dead_letter', reason: 'unknown_area', detail: 'area 1 is unknown' }), 'unknown_area: area 1 is unknown');
  assert.equal(summarize({ type: 'status', state: 'offline' }), 'offline');
  assert.equal(summarize({ type: 'dossier', dossier_id: 'D1', status: 'submitted', channel: 'online', e_certified: true }), 'D1 submitted · online · e-cert');
});

test('last seen keeps the latest time per publisher', () => {
  const known = new Map([['a', '2026-11-27T01:00:00Z']]);
  const seen = lastSeen(known, [
    { type: 'sample', publisher_id: 'a', occurred_at: '2026-11-27T00:00:00Z' },
    { type: 'status', publisher_id: 'b', at: '2026-11-27T02:00:00Z' },
    { type: 'dead_letter', publisher_id: null, received_at: '2026-11-27T03:00:00Z' },
    { type: 'sample', publisher_id: 'a', occurred_at: '2026-11-27T04:00:00Z' },
  ]);
  assert.deepEqual([...seen], [['a', '2026-11-27T04:00:00Z'], ['b', '2026-11-27T02:00:00Z']]);
  assert.equal(known.get('a'), '2026-11-27T01:00:00Z');
});
