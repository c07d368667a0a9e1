// Ordering and paging of unresolved alerts for the wall's strip and the console (pure: no DOM, no network).

const SEVERITY_RANK = { critical: 0, major: 1, warning: 2, info: 3 };
const UNRESOLVED = new Set(['open', 'acknowledged']);

function rank(severity) {
  return SEVERITY_RANK[severity] ?? Object.keys(SEVERITY_RANK).length;
}

/**
 * Open and acknowledged alerts, those needing action first: a muted alert (covered by a mute window)
 * after every other; then most severe first, then newest first (then by id, so the order is stable).
 */
export function orderAlerts(alerts) {
  return alerts
    .filter((a) => UNRESOLVED.has(a.state))
    .sort(
      (a, b) =>
        Number(Boolean(a.muted)) - Number(Boolean(b.muted)) ||
        rank(a.severity) - rank(b.severity) ||
        Date.parse(b.opened_at) - Date.parse(a.opened_at) ||
        b.id - a.id,
    );
}

/** The alerts that need action, in that order: what the wall's strip shows (a muted alert needs none). */
export function alertsNeedingAction(alerts) {
  return orderAlerts(alerts).filter((a) => !a.muted);
}

/**
 * The page of `perPage` alerts to show at rotation step `step`. A strip with room for a few alerts
 * cycles through every page, so an old unresolved alert is never hidden for good behind newer ones.
 */
export function alertPage(ordered, perPage, step) {
  if (ordered.length === 0 || perPage < 1) {
    return { alerts: [], page: 0, pages: 0 };
  }
  const pages = Math.ceil(ordered.length / perPage);
  const page = ((step % pages) + pages) % pages;
  return { alerts: ordered.slice(page * perPage, (page + 1) * perPage), page, pages };
}
