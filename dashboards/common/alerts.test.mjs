import assert from 'node:assert/strict';
import { test } from 'node:test';

import { alertPage, alertsNeedingAction, orderAlerts } from './alerts.js';

const alert = (id, severity, state, openedAt) => ({ id, severity, state, opened_at: openedAt });

test('most severe first, then newest, resolved ones left out', () => {
  const ordered = orderAlerts([
    alert(1, 'warning', 'open', '2026-11-27T01:00:00Z'),
    alert(2, 'critical', 'acknowledged', '2026-11-20T01:00:00Z'),
    alert(3, 'warning', 'open', '2026-11-27T02:00:00Z'),
    alert(4, 'critical', 'resolved', '2026-11-27T03:00:00Z'),
    alert(5, 'info', 'open', '2026-11-27T04:00:00Z'),
    alert(6, 'major', 'open', '2026-11-01T00:00:00Z'),
  ]);
  assert.deepEqual(ordered.map((a) => a.id), [2, 6, 3, 1, 5]);
});

test('alerts opened at the same moment keep a stable order (newer id first)', () => {
  const at = '2026-11-27T01:00:00Z';
  assert.deepEqual(orderAlerts([alert(7, 'major', 'open', at), alert(9, 'major', 'open', at)]).map((a) => a.id), [9, 7]);
});

test('the strip cycles through every page, so the oldest unresolved alert comes round', () => {
  const ordered = Array.from({ length: 7 }, (_, i) => alert(i + 1, 'info', 'open', `2026-11-27T0${i}:00:00Z`));
  const seen = [];
  for (let step = 0; step < 3; step += 1) {
    const { alerts, page, pages } = alertPage(orderAlerts(ordered), 3, step);
    assert.equal(page, step);
    assert.equal(pages, 3);
    seen.push(...alerts.map((a) => a.id));
  }
  assert.deepEqual(seen, [7, 6, 5, 4, 3, 2, 1]);
  assert.deepEqual(alertPage(orderAlerts(ordered), 3, 3).alerts.map((a) => a.id), [7, 6, 5]);
});

test('no alerts: an empty page', () => {
  assert.deepEqual(alertPage([], 4, 5), { alerts: [], page: 0, pages: 0 });
});

test('a muted alert comes after every other, and the wall leaves it out', () => {
  const muted = { ...alert(1, 'critical', 'open', '2026-11-27T05:00:00Z'), muted: true, muted_by: 3 };
  const alerts = [muted, alert(2, 'info', 'open', '2026-11-27T01:00:00Z'), alert(3, 'major', 'open', '2026-11-27T02:00:00Z')];
  assert.deepEqual(orderAlerts(alerts).map((a) => a.id), [3, 2, 1]);
  assert.deepEqual(alertsNeedingAction(alerts).map((a) => a.id), [3, 2]);
});
