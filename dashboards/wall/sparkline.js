// The last hour of a KPI as an SVG path: history points, then live values appended (pure).

export const SPAN_MS = 60 * 60 * 1000;

/** History points ({at, value}) as [ms, value] pairs, oldest first, without empty values. */
export function fromHistory(points) {
  return points
    .filter((p) => p.value !== null)
    .map((p) => [Date.parse(p.at), p.value])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The series with a live value added: a value in the same minute as the last point replaces it
 * (the history holds one point a minute), points older than the span before `atMs` are dropped.
 */
export function appendPoint(series, atMs, value, spanMs = SPAN_MS) {
  if (value === null || value === undefined || Number.isNaN(atMs)) {
    return series;
  }
  const minute = Math.floor(atMs / 60_000);
  const kept = series.filter(([ms]) => ms > atMs - spanMs && ms <= atMs);
  const last = kept[kept.length - 1];
  if (last && Math.floor(last[0] / 60_000) === minute) {
    kept[kept.length - 1] = [atMs, value];
  } else if (!last || last[0] < atMs) {
    kept.push([atMs, value]);
  }
  return kept;
}

/** An SVG path (`M x y L x y …`) fitting the series into width × height; '' with fewer than two points. */
export function sparkPath(series, width, height, endMs, spanMs = SPAN_MS) {
  if (series.length < 2) {
    return '';
  }
  const values = series.map(([, v]) => v);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high === low) {
    low -= 1;
    high += 1;
  }
  const x = (ms) => ((ms - (endMs - spanMs)) / spanMs) * width;
  const y = (v) => height - ((v - low) / (high - low)) * height;
  return series
    .map(([ms, v], i) => `${i === 0 ? 'M' : 'L'}${x(ms).toFixed(1)} ${y(v).toFixed(1)}`)
    .join(' ');
}
