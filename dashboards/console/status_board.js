// The status board at the top of the console: one card per item of GET /api/v1/system/status, problems
// in red, warnings in amber; its line in the page's language, the API's own reason as the tooltip.

import { el } from '../common/dom.js';
import { formatTime } from '../common/i18n.js';
import { statusLine, w } from './words.js';

export function statusCards(lang, status) {
  if (!status) return [];
  return status.items.map((item) =>
    el(
      'div',
      { class: `status-card level-${item.level}`, 'data-status': item.name, title: item.reason },
      el('div', { class: 'status-name' }, w(lang, `status.${item.name}`), el('span', { class: 'status-level' }, w(lang, `level.${item.level}`))),
      el('div', { class: 'status-line' }, statusLine(item, lang, formatTime)),
    ),
  );
}
