// The console's live event tail table (the other panels have modules of their own).

import { el } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { eventTime, summarize } from './tail.js';

function head(lang, ...keys) {
  return el('thead', {}, el('tr', {}, keys.map((k) => el('th', {}, t(lang, k)))));
}

export function tailRows(ctx) {
  const { lang } = ctx;
  return [
    head(lang, 'col.time', 'col.type', 'col.publisher', 'col.area', 'col.detail'),
    el(
      'tbody',
      {},
      ctx.tail.map((e) =>
        el(
          'tr',
          { class: e.type },
          el('td', {}, formatTime(eventTime(e), lang)),
          el('td', {}, e.type),
          el('td', {}, e.publisher_id ?? '—'),
          el('td', {}, e.area_code ?? ''),
          el('td', { class: 'detail' }, summarize(e)),
        ),
      ),
    ),
  ];
}
