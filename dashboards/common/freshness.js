// Whether a tile's number may be shown as live (pure: time is passed in, never read here).

export const DEFAULT_STALE_AFTER_SECONDS = 600;

/**
 * The age of a frame's data and its state:
 * - 'nodata'  the engine has nothing to compute the value from;
 * - 'stale'   the latest contributing event is older than `staleAfterSeconds`;
 * - 'fresh'   otherwise.
 * A gauge has no contributing event time; its age is that of the engine's computation (`as_of`).
 */
export function freshness(frame, nowMs, staleAfterSeconds = DEFAULT_STALE_AFTER_SECONDS) {
  if (!frame || frame.value === null || frame.value === undefined) {
    return { state: 'nodata', ageSeconds: null };
  }
  const at = Date.parse(frame.last_event_at ?? frame.as_of);
  if (Number.isNaN(at)) {
    return { state: 'nodata', ageSeconds: null };
  }
  const ageSeconds = Math.max(0, Math.round((nowMs - at) / 1000));
  return { state: ageSeconds > staleAfterSeconds ? 'stale' : 'fresh', ageSeconds };
}

/**
 * What a tile shows: 'live' only while the connection is live and the data fresh. A tile whose
 * connection is down says so ('offline'), so a number from before the outage never passes for live.
 */
export function tileState(connection, fresh) {
  if (connection !== 'live') {
    return 'offline';
  }
  return fresh.state === 'fresh' ? 'live' : fresh.state;
}

/** "42 s", "5 min", "3 h", "2 d": an age short enough for a tile. */
export function shortAge(ageSeconds) {
  if (ageSeconds === null) {
    return '—';
  }
  if (ageSeconds < 60) return `${ageSeconds} s`;
  if (ageSeconds < 3600) return `${Math.floor(ageSeconds / 60)} min`;
  if (ageSeconds < 86400) return `${Math.floor(ageSeconds / 3600)} h`;
  return `${Math.floor(ageSeconds / 86400)} d`;
}
