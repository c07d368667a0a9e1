// How long to wait before reconnecting (pure: the random source is passed in).

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;

/** Exponential backoff from 0.5 s to 15 s, with up to 25 % jitter so that a wall of screens does not reconnect in step. */
export function reconnectDelayMs(attempt, random = Math.random) {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 + 0.25 * random()));
}
