import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { LayoutError, parseLayout, subscription, viewAt, windowFor, withOverrides } from './layout.js';

const shipped = JSON.parse(readFileSync(new URL('./layout.json', import.meta.url), 'utf8'));
const params = (query) => new URLSearchParams(query);
const entry = (windows) => ({ windows });

test('the shipped layout parses', () => {
  const layout = parseLayout(shipped);
  assert.equal(layout.rotateSeconds, 20);
  assert.deepEqual(layout.views.map((v) => v.staleAfterSeconds), [600, 3600, 600, 600, 600, 3600, 600]);
  assert.deepEqual(layout.views.map((v) => v.id), ['overview', 'coverage-map', 'payments', 'cashless-map', 'sectors', 'coverage', 'operations']);
  assert.equal(layout.views[1].kpi, 'coverage.usable_share');
  assert.equal(layout.views[1].window, '1h');
  assert.equal(layout.views[0].window, 'today');
  assert.equal(layout.views[0].area, '67');
});

test('problems are named', () => {
  const bad = [
    [{}, 'views must list at least one view'],
    [{ views: [{ id: 'a', kind: 'map' }] }, 'views[0].kind must be one of kpis, areas'],
    [{ views: [{ id: 'a', kind: 'kpis', kpis: [] }] }, 'views[0].kpis must list at least one KPI id'],
    [{ views: [{ id: 'a', kind: 'areas', window: '2h' }] }, 'views[0].window must be one of 5m, 1h, 24h, today, now'],
    [{ views: [{ id: 'a', kind: 'areas' }, { id: 'a', kind: 'areas' }] }, 'view ids must be unique'],
    [{ rotate_seconds: 1, views: [{ id: 'a', kind: 'areas' }] }, 'rotate_seconds must be a number ≥ 5'],
    [{ views: [{ id: 'a', kind: 'areas', stale_after_seconds: 0 }] }, 'views[0].stale_after_seconds must be a number ≥ 1'],
  ];
  for (const [raw, message] of bad) {
    assert.throws(() => parseLayout(raw), new LayoutError(message));
  }
});

test('the URL picks views, their order, the rotation, the area and the window', () => {
  const layout = withOverrides(parseLayout(shipped), params('views=operations,coverage-map&rotate=30&area=660&window=5m'));
  assert.deepEqual(layout.views.map((v) => v.id), ['operations', 'coverage-map']);
  assert.equal(layout.rotateSeconds, 30);
  assert.deepEqual(layout.views.map((v) => [v.area, v.window]), [['660', '5m'], ['660', '5m']]);
  assert.throws(() => withOverrides(parseLayout(shipped), params('views=nope')), /unknown view 'nope'/);
  assert.throws(() => withOverrides(parseLayout(shipped), params('rotate=2')), /rotate must be 0 or ≥ 5/);
  assert.throws(() => withOverrides(parseLayout(shipped), params('area=%3Cx%3E')), /area must be an area code/);
});

test('the playlist advances every rotate_seconds and wraps; rotate=0 stays on the first view', () => {
  const layout = parseLayout(shipped);
  assert.deepEqual([0, 19.9, 20, 139, 140].map((s) => viewAt(layout, s).id), ['overview', 'overview', 'coverage-map', 'operations', 'overview']);
  assert.equal(viewAt(withOverrides(layout, params('rotate=0')), 1000).id, 'overview');
});

test('the subscription asks for every KPI shown, gauges in their own window', () => {
  const layout = parseLayout({
    views: [
      { id: 'a', kind: 'kpis', window: '1h', kpis: ['x', 'gauge'] },
      { id: 'b', kind: 'areas', kpi: 'x', window: 'today' },
    ],
  });
  const catalog = new Map([['x', entry(['5m', '1h', '24h', 'today'])], ['gauge', entry(['now'])]]);
  assert.deepEqual(subscription(layout, catalog), { kpis: ['gauge', 'x'], windows: ['1h', 'now', 'today'] });
  assert.equal(windowFor(catalog.get('gauge'), '1h'), 'now');
  assert.throws(() => subscription(layout, new Map()), /view 'a' names KPI 'x', which the catalog does not have/);
});
