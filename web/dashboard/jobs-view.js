// The jobs table: filters (status, type, batch, id search), cursor pages of the API (never all
// jobs at once), live updates from the event stream, and a coalesced reload of the page
// when jobs appear or leave it.
import { api, ApiError } from './api.js';
import { $, fill, h, throttle } from './dom.js';
import { fmtDuration, fmtTime, jobDuration, percentOf, shortId } from './format.js';
import { badge, notifyError, progressBar } from './ui.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

export const shownPercent = (job) => (job.status === 'completed' ? 100 : percentOf(job.progress));

export const createJobsView = ({ onOpen }) => {
  const tbody = $('#jobs-table tbody');
  const state = {
    filters: { status: '', job_type: '', batch_id: '', search: '' },
    limit: 50,
    cursors: [null],
    page: 0,
    next: null,
    rows: new Map(),
    selected: null,
    loading: null,
    loadedOnce: false,
  };

  const query = () => {
    const f = state.filters;
    const q = new URLSearchParams({ limit: String(state.limit) });
    if (f.status) q.set('status', f.status);
    if (f.job_type) q.set('job_type', f.job_type);
    if (f.batch_id) q.set('batch_id', f.batch_id);
    if (f.search) q.set('external_id', f.search);
    const cursor = state.cursors[state.page];
    if (cursor) q.set('cursor', cursor);
    return q;
  };

  const cells = (job) => {
    const duration = jobDuration(job);
    return [
      h('td', {}, badge(job.status)),
      h('td', { class: 'mono' }, job.job_type),
      h('td', {}, progressBar(shownPercent(job), job.status), job.status === 'processing' && job.progress?.step ? h('div', { class: 'step' }, job.progress.step) : null),
      h('td', { title: job.created_at }, fmtTime(job.created_at)),
      h('td', { class: 'duration' }, duration === null ? '—' : fmtDuration(duration)),
      h('td', { class: 'mono', title: job.external_id ?? '' }, job.external_id ? shortId(job.external_id) : '—'),
      h('td', { class: 'mono', title: job.job_id }, shortId(job.job_id)),
    ];
  };

  const renderRow = (job, fresh) => {
    const tr = h('tr', {
      class: `job-row${fresh ? ' row-new' : ''}${state.selected === job.job_id ? ' selected' : ''}`,
      tabindex: 0,
      dataset: { jobId: job.job_id, status: job.status },
      onclick: () => onOpen(job.job_id),
      onkeydown: (e) => {
        if (e.key === 'Enter') onOpen(job.job_id);
      },
    });
    fill(tr, cells(job));
    return tr;
  };

  const setInfo = (text) => fill($('#page-info'), text);

  const render = (jobs, emptyText) => {
    const before = new Set(state.rows.keys());
    const first = !state.loadedOnce;
    state.rows = new Map();
    const trs = jobs.map((job) => {
      const tr = renderRow(job, !first && !before.has(job.job_id));
      state.rows.set(job.job_id, { job, tr });
      return tr;
    });
    fill(tbody, trs.length ? trs : h('tr', { class: 'empty' }, h('td', { colspan: 7 }, emptyText)));
    state.loadedOnce = true;
    $('#prev').disabled = state.page === 0;
    $('#next').disabled = !state.next;
    const from = state.page * state.limit + 1;
    setInfo(jobs.length ? `jobs ${from}–${from + jobs.length - 1}${state.next ? '' : ' (last page)'}` : '');
  };

  const load = async () => {
    const f = state.filters;
    try {
      if (/^job-/.test(f.search)) {
        try {
          const { data } = await api(`api/jobs/${encodeURIComponent(f.search)}`);
          state.next = null;
          render([data], '');
        } catch (err) {
          if (!(err instanceof ApiError) || err.status !== 404) throw err;
          state.next = null;
          render([], `No job with the id ${f.search} (or it belongs to another user).`);
        }
        return;
      }
      const { data } = await api(`api/jobs?${query()}`);
      state.next = data.next_cursor;
      const filtered = f.status || f.job_type || f.batch_id || f.search;
      render(data.jobs, filtered ? 'No job matches these filters.' : 'No jobs yet. Jobs created with POST /api/jobs appear here live.');
    } catch (err) {
      if (err?.status !== 401) notifyError('Loading jobs failed', err);
    }
  };

  /** Loads the current page; concurrent calls share one request and one follow-up. */
  const reload = () => {
    if (state.loading) {
      state.again = true;
      return state.loading;
    }
    state.loading = load().finally(() => {
      state.loading = null;
      if (state.again) {
        state.again = false;
        reload();
      }
    });
    return state.loading;
  };
  const scheduleReload = throttle(() => void reload(), 500);

  const matches = (c) => {
    const f = state.filters;
    return (
      !f.search &&
      (!f.status || f.status.split(',').includes(c.status)) &&
      (!f.job_type || f.job_type === c.job_type) &&
      (!f.batch_id || f.batch_id === c.batch_id)
    );
  };

  /** A job change from the stream: patch its row at once; reload when the page's set changes. */
  const onJob = (c) => {
    const entry = state.rows.get(c.job_id);
    if (!entry) {
      if (state.page === 0 && matches(c)) scheduleReload();
      return;
    }
    const job = entry.job;
    if (c.version <= (job.version ?? 0)) return;
    const wasTerminal = TERMINAL.includes(job.status);
    Object.assign(job, { status: c.status, progress: c.progress, version: c.version, updated_at: c.updated_at });
    if (c.status === 'processing' && !job.processing_started_at) job.processing_started_at = c.updated_at;
    if (TERMINAL.includes(c.status) && !job.completed_at) job.completed_at = c.updated_at;
    entry.tr.dataset.status = c.status;
    fill(entry.tr, cells(job));
    const f = state.filters;
    if ((f.status && !f.status.split(',').includes(c.status)) || TERMINAL.includes(c.status) !== wasTerminal) scheduleReload();
  };

  /** Running jobs' durations tick every second. */
  setInterval(() => {
    for (const { job, tr } of state.rows.values()) {
      if (job.status !== 'processing') continue;
      const d = jobDuration(job);
      const cell = tr.querySelector('.duration');
      if (cell) cell.textContent = d === null ? '—' : fmtDuration(d);
    }
  }, 1000);

  const select = (jobId) => {
    state.selected = jobId;
    for (const [id, { tr }] of state.rows) tr.classList.toggle('selected', id === jobId);
  };

  const setFilters = (filters) => {
    Object.assign(state.filters, filters);
    state.cursors = [null];
    state.page = 0;
    state.loadedOnce = false;
    $('#f-status').value = state.filters.status;
    $('#f-type').value = state.filters.job_type;
    $('#f-batch').value = state.filters.batch_id;
    $('#f-search').value = state.filters.search;
    return reload();
  };

  $('#filters').addEventListener('submit', (e) => {
    e.preventDefault();
    void setFilters({
      status: $('#f-status').value,
      job_type: $('#f-type').value,
      batch_id: $('#f-batch').value.trim(),
      search: $('#f-search').value.trim(),
    });
  });
  for (const id of ['#f-status', '#f-type']) $(id).addEventListener('change', () => $('#filters').requestSubmit());
  $('#f-clear').addEventListener('click', () => void setFilters({ status: '', job_type: '', batch_id: '', search: '' }));
  $('#f-limit').addEventListener('change', () => {
    state.limit = Number($('#f-limit').value) || 50;
    void setFilters({});
  });
  $('#next').addEventListener('click', () => {
    if (!state.next) return;
    state.cursors[state.page + 1] = state.next;
    state.page += 1;
    state.loadedOnce = false;
    void reload();
  });
  $('#prev').addEventListener('click', () => {
    if (state.page === 0) return;
    state.page -= 1;
    state.loadedOnce = false;
    void reload();
  });

  return { reload, onJob, onResync: () => scheduleReload(), select, setFilters, get filters() { return { ...state.filters }; }, setJobTypes: (types) => {
    const sel = $('#f-type');
    const current = sel.value;
    fill(sel, h('option', { value: '' }, 'all types'), types.map((t) => h('option', { value: t }, t)));
    sel.value = current;
  } };
};
