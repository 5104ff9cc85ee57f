// Batches with their counters (newest first, cursor pages); a click shows the batch's jobs.
// Live: a job event naming a shown batch, or a batch event, reloads the page (throttled).
import { api } from './api.js';
import { $, fill, h, throttle } from './dom.js';
import { fmtTime, shortId } from './format.js';
import { badge, notifyError } from './ui.js';

const COUNTERS = ['completed', 'failed', 'cancelled', 'processing', 'pending'];

const counterBar = (b) => {
  const total = Math.max(1, b.total_jobs);
  return h(
    'div',
    { class: 'stack', title: COUNTERS.map((k) => `${b[`${k}_jobs`]} ${k}`).join(', ') },
    COUNTERS.map((k) => (b[`${k}_jobs`] > 0 ? h('div', { class: `stack-${k}`, style: { width: `${(100 * b[`${k}_jobs`]) / total}%` } }) : null)),
  );
};

export const createBatchesView = ({ onShowJobs }) => {
  const tbody = $('#batches-table tbody');
  const state = { cursors: [null], page: 0, next: null, shown: new Set(), visible: false };

  const row = (b) =>
    h(
      'tr',
      { class: 'batch-row', tabindex: 0, dataset: { batchId: b.batch_id }, onclick: () => onShowJobs(b.batch_id), onkeydown: (e) => e.key === 'Enter' && onShowJobs(b.batch_id) },
      h('td', {}, badge(b.status)),
      h('td', {}, b.batch_name || '—'),
      h('td', { class: 'mono', title: b.batch_id }, shortId(b.batch_id)),
      h('td', {}, counterBar(b)),
      h('td', { class: 'num' }, String(b.total_jobs)),
      h('td', { class: 'num' }, String(b.pending_jobs)),
      h('td', { class: 'num' }, String(b.processing_jobs)),
      h('td', { class: 'num' }, String(b.completed_jobs)),
      h('td', { class: 'num' }, String(b.failed_jobs)),
      h('td', { class: 'num' }, String(b.cancelled_jobs)),
      h('td', { title: b.created_at }, fmtTime(b.created_at)),
    );

  const load = async () => {
    try {
      const q = new URLSearchParams({ limit: '25' });
      const cursor = state.cursors[state.page];
      if (cursor) q.set('cursor', cursor);
      const { data } = await api(`api/batches?${q}`);
      state.next = data.next_cursor;
      state.shown = new Set(data.batches.map((b) => b.batch_id));
      fill(tbody, data.batches.length ? data.batches.map(row) : h('tr', { class: 'empty' }, h('td', { colspan: 11 }, 'No batches yet (POST /api/jobs/batch creates one).')));
      $('#b-prev').disabled = state.page === 0;
      $('#b-next').disabled = !state.next;
    } catch (err) {
      if (err?.status !== 401) notifyError('Loading batches failed', err);
    }
  };
  const scheduleReload = throttle(() => void load(), 1500);

  $('#b-next').addEventListener('click', () => {
    if (!state.next) return;
    state.cursors[state.page + 1] = state.next;
    state.page += 1;
    void load();
  });
  $('#b-prev').addEventListener('click', () => {
    if (state.page === 0) return;
    state.page -= 1;
    void load();
  });

  return {
    reload: load,
    setVisible(v) {
      state.visible = v;
      if (v) void load();
    },
    onJob(c) {
      if (state.visible && c.batch_id && state.shown.has(c.batch_id)) scheduleReload();
    },
    onResync() {
      if (state.visible) scheduleReload();
    },
    onBatch(c) {
      if (state.visible && (state.shown.has(c.batch_id) || state.page === 0)) scheduleReload();
    },
  };
};
