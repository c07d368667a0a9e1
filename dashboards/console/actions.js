// The console's actions on dead letters (replay one, view a payload, count then replay a filter, export it)
// and on a publisher (open its page; disable/enable, maintenance, silent-after): each says what came of
// it in the notice, or the API's message when it was refused, then refreshes what it changed.

import { t } from '../common/i18n.js';
import { filterParams, formValues } from './dead_letters_panel.js';
import { w } from './words.js';

/** `ui`: {$, notice, failed, refresh, render} of the page. */
export function consoleActions(ctx, ui) {
  const { $, notice, failed, refresh, render } = ui;
  const self = {
    async replay(deadLetter) {
      try {
        const outcome = await ctx.api.post(`/api/v1/dead-letters/${deadLetter.id}/replay`);
        notice(`${t(ctx.lang, 'console.replay')} #${outcome.id}: ${outcome.status} — ${outcome.detail}`, outcome.status === 'rejected' ? 'bad' : 'good');
      } catch (error) {
        await failed(error);
      }
      await refresh();
    },

    closePayload() {
      ctx.payload = null;
      render();
    },

    async viewPayload(deadLetter) {
      try {
        ctx.payload = await ctx.api.get(`/api/v1/dead-letters/${deadLetter.id}/payload`);
        render();
        $('payload-viewer').scrollIntoView({ block: 'nearest' });
      } catch (error) {
        await failed(error);
      }
    },

    /** The filter form's buttons: apply (list), count (then offer the replay of what it counts), export. */
    async onDeadFilter(action) {
      ctx.deadFilter = formValues($('dead-filters'));
      const params = filterParams(ctx.deadFilter);
      try {
        if (action === 'count') {
          const counted = await ctx.api.get('/api/v1/dead-letters/count', params);
          ctx.preview = { ...counted, params };
          render();
        } else if (action === 'export') {
          await self.exportCsv(params);
        } else {
          ctx.preview = null;
          notice(null);
          await refresh();
        }
      } catch (error) {
        await failed(error);
      }
    },

    async replayAll(preview) {
      const { reason, publisher, since, until } = preview.params;
      try {
        const done = await ctx.api.post('/api/v1/dead-letters/replay', { reason, publisher, since, until, expected: preview.open });
        notice(w(ctx.lang, 'dl.replay_all.done', done), done.rejected ? 'bad' : 'good');
        ctx.preview = null;
      } catch (error) {
        await failed(error);
      }
      await refresh();
    },

    async exportCsv(params) {
      const { text, headers } = await ctx.api.text('/api/v1/dead-letters/export.csv', params);
      const file = /filename="([^"]+)"/.exec(headers.get('content-disposition') ?? '')?.[1] ?? 'dead-letters.csv';
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
      link.download = file;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      const rows = text.split('\r\n').filter(Boolean).length - 1; // a quoted cell may hold \n, never \r\n
      notice(w(ctx.lang, 'dl.exported', { n: rows, file }), 'good');
    },

    async pick(publisher) {
      ctx.picked = publisher.id;
      try {
        const [gaps, events, deadLetters] = await Promise.all([
          ctx.api.get(`/api/v1/publishers/${encodeURIComponent(publisher.id)}/gaps`),
          ctx.api.get(`/api/v1/events/${publisher.source}`, { publisher: publisher.id, limit: 10 }),
          ctx.api.get('/api/v1/dead-letters', { publisher: publisher.id, include_resolved: 'true', limit: 10 }),
        ]);
        ctx.page = { publisher, gaps, events: events.events, deadLetters };
      } catch (error) {
        await failed(error);
      }
      $('publisher-page-title').textContent = w(ctx.lang, 'pub.page.title', { id: publisher.id });
      render();
    },

    /** A publisher action (issue 22 item 3's routes, scope admin); the API's message on refusal. */
    async act(kind, form) {
      const id = encodeURIComponent(ctx.page.publisher.id);
      const path = `/api/v1/publishers/${id}`;
      try {
        if (kind === 'disable' || kind === 'enable') await ctx.api.post(`${path}/${kind}`);
        else if (kind === 'end_maintenance') await ctx.api.delete(`${path}/maintenance`);
        else if (kind === 'maintenance') {
          const until = form.until.value ? new Date(form.until.value).toISOString() : '';
          await ctx.api.put(`${path}/maintenance`, { until, reason: form.reason.value });
        } else if (kind === 'silent_after') {
          await ctx.api.put(`${path}/silent-after`, { seconds: form.seconds.value ? Number(form.seconds.value) : null });
        }
        notice(`${w(ctx.lang, 'pub.action.done')}: ${ctx.page.publisher.id}`, 'good');
      } catch (error) {
        await failed(error);
      }
      await refresh();
      const again = ctx.publishers.find((p) => p.id === ctx.picked);
      if (again) await self.pick(again);
    },
  };
  return self;
}
