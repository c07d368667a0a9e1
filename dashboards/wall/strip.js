// The alert strip at the foot of the wall: one line per unresolved incident (one cause, however many
// alerts it holds: "8 alerts: 1 commune, 7 villages"), most severe and newest first, a page at a time.
// Every text is the API's, in the page's language, set as text (never parsed as markup). An incident whose
// open alerts are all muted needs no action and is left out.

import { alertPage, alertsNeedingAction } from '../common/alerts.js';
import { el } from '../common/dom.js';
import { shortAge } from '../common/freshness.js';
import { areaName, t } from '../common/i18n.js';

export function renderAlertStrip(ctx, nowMs) {
  const { lang } = ctx;
  const { alerts: incidents, page, pages } = alertPage(alertsNeedingAction(ctx.incidents), ctx.layout.alertsPerPage, ctx.alertStep);
  if (pages === 0) {
    return [el('span', { class: 'alert-none' }, t(lang, 'alerts.none'))];
  }
  const items = incidents.map((i) => {
    const area = ctx.areas.byCode.get(i.area_code);
    const age = shortAge(Math.max(0, Math.round((nowMs - Date.parse(i.opened_at)) / 1000)));
    return el(
      'div',
      { class: `alert ${i.severity} ${i.state}`, 'data-incident': i.id },
      el('span', { class: 'sev' }, t(lang, `severity.${i.severity}`)),
      el('span', { class: 'where' }, area ? areaName(area, lang) : i.area_code),
      el('span', { class: 'msg' }, i.messages?.[lang] ?? i.rule_id),
      i.open_members > 1 ? el('span', { class: 'members' }, i.summary[lang]) : null,
      el('span', { class: 'age' }, age),
      i.state === 'acknowledged' ? el('span', { class: 'ack' }, `✓ ${t(lang, 'alerts.acknowledged')}`) : null,
    );
  });
  return [...items, el('span', { class: 'alert-page' }, `${t(lang, 'alerts.page')} ${page + 1}/${pages}`)];
}
