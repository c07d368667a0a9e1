import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameBook } from './framebook.js';

const frame = (kpi, seq, value, epoch = 'e1', area = '67', window = '1h') => ({ kpi, area, window, value, epoch, seq });

test('nothing to resume from before the first snapshot, nor when the engine has no epoch', () => {
  const book = new FrameBook();
  assert.equal(book.resumeFrom(), null);
  book.apply({ type: 'snapshot', epoch: null, seq: 0, frames: [] });
  assert.equal(book.resumeFrom(), null);
});

test('snapshot, deltas, then resume from the last seq seen', () => {
  const book = new FrameBook();
  book.apply({ type: 'snapshot', epoch: 'e1', seq: 10, frames: [frame('a', 9, 1), frame('b', 10, 2)] });
  assert.deepEqual(book.resumeFrom(), { epoch: 'e1', seq: 10 });
  const change = book.apply({ type: 'delta', frames: [frame('a', 11, 5), frame('b', 12, 6)] });
  assert.deepEqual(change.frames.map((f) => f.seq), [11, 12]);
  assert.equal(book.get('a', '67', '1h').value, 5);
  assert.deepEqual(book.resumeFrom(), { epoch: 'e1', seq: 12 });
});

test('frames already held (seq not above the last) are not applied twice', () => {
  const book = new FrameBook();
  book.apply({ type: 'snapshot', epoch: 'e1', seq: 10, frames: [frame('a', 10, 1)] });
  const change = book.apply({ type: 'delta', frames: [frame('a', 9, 99), frame('a', 10, 98)] });
  assert.deepEqual(change.frames, []);
  assert.equal(book.get('a', '67', '1h').value, 1);
  assert.deepEqual(book.resumeFrom(), { epoch: 'e1', seq: 10 });
});

test('resumed merges the missed frames and moves to their seq', () => {
  const book = new FrameBook();
  book.apply({ type: 'snapshot', epoch: 'e1', seq: 10, frames: [frame('a', 9, 1), frame('b', 10, 2)] });
  book.apply({ type: 'resumed', epoch: 'e1', seq: 14, frames: [frame('b', 14, 7)] });
  assert.equal(book.get('a', '67', '1h').value, 1);
  assert.equal(book.get('b', '67', '1h').value, 7);
  assert.deepEqual(book.resumeFrom(), { epoch: 'e1', seq: 14 });
});

test('a snapshot of a new epoch replaces everything held', () => {
  const book = new FrameBook();
  book.apply({ type: 'snapshot', epoch: 'e1', seq: 10, frames: [frame('a', 9, 1), frame('b', 10, 2)] });
  const change = book.apply({ type: 'snapshot', epoch: 'e2', seq: 3, frames: [frame('b', 3, 4, 'e2')] });
  assert.equal(change.replaced, true);
  assert.equal(book.get('a', '67', '1h'), undefined);
  assert.equal(book.get('b', '67', '1h').value, 4);
  assert.deepEqual(book.resumeFrom(), { epoch: 'e2', seq: 3 });
});

test('a delta frame of another epoch is ignored (a snapshot of that epoch follows)', () => {
  const book = new FrameBook();
  book.apply({ type: 'snapshot', epoch: 'e1', seq: 10, frames: [frame('a', 10, 1)] });
  assert.deepEqual(book.apply({ type: 'delta', frames: [frame('a', 11, 5, 'e2')] }).frames, []);
  assert.equal(book.get('a', '67', '1h').value, 1);
});

test('messages without frames change nothing', () => {
  const book = new FrameBook();
  for (const type of ['ready', 'heartbeat', 'lagging']) {
    assert.equal(book.apply({ type }), null);
  }
});
