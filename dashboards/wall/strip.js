// The alert strip at the foot of the wall: unresolved alerts that need action (not muted), most severe and
// newest first, a page at a time.

import { alertPage, alertsNeedingAction } from '../common/alerts.js';
import { el } from '../common/dom.js';
import { shortAge } from '../common/freshness.js';
import { areaName, t } from '../common/i18n.js';

export function renderAlertStrip(ctx, nowMs) {
  const { lang } = ctx;
  const { alerts, page, pages } = alertPage(alertsNeedingAction(ctx.alerts), ctx.layout.alertsPerPage, ctx.alertStep);
  if (pages === 0) {
    return [el('span', { class: 'alert-none' }, t(lang, 'alerts.none'))];
  }
  const items = alerts.map((a) => {
    const area = ctx.areas.byCode.get(a.area_code);
    const age = shortAge(Math.max(0, Math.round((nowMs - Date.parse(a.opened_at)) / 1000)));
    return el(
      'div',
      { class: `alert ${a.severity} ${a.state}`, 'data-alert': a.id },
      el('span', { class: 'sev' }, t(lang, `severity.${a.severity}`)),
      el('span', { class: 'where' }, area ? areaName(area, lang) : a.area_code),
      el('span', { class: 'msg' }, a.message),
      el('span', { class: 'age' }, age),
      a.state === 'acknowledged' ? el('span', { class: 'ack' }, `✓ ${t(lang, 'alerts.acknowledged')}`) : null,
    );
  });
  return [...items, el('span', { class: 'alert-page' }, `${t(lang, 'alerts.page')} ${page + 1}/${pages}`)];
}
