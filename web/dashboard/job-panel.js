// The job panel: one job in detail, kept live (its progress moves with every event; the full
// job is re-read at most every 500 ms), with cancel / retry / redeliver / delete behind a
// confirmation and a visible result.
import { api } from './api.js';
import { $, fill, h, throttle } from './dom.js';
import { fmtDuration, fmtTime, jobDuration, percentOf } from './format.js';
import { renderArtifacts, renderLogs, renderParameters, renderResults, renderUsage, renderWebhook, section } from './job-sections.js';
import { badge, confirmAction, notify, notifyError, progressBar } from './ui.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

const ACTIONS = [
  {
    id: 'cancel',
    label: 'Cancel',
    when: (j) => j.status === 'pending' || j.status === 'processing',
    confirm: (j) => [`Cancel job ${j.job_id}?`, j.status === 'processing' ? 'The running handler is aborted; the job ends cancelled.' : 'The job will not run; it ends cancelled.', 'Cancel job'],
    run: (j) => api(`api/jobs/${encodeURIComponent(j.job_id)}/cancel`, { method: 'POST', body: { reason: 'cancelled from the dashboard' } }),
    done: 'Cancelled',
  },
  {
    id: 'retry',
    label: 'Retry',
    when: (j) => j.status === 'failed' || j.status === 'cancelled',
    confirm: (j) => [`Retry job ${j.job_id}?`, 'The job goes back to pending and runs again.', 'Retry job'],
    run: (j) => api(`api/jobs/${encodeURIComponent(j.job_id)}/retry`, { method: 'POST' }),
    done: 'Queued again',
  },
  {
    id: 'redeliver',
    label: 'Redeliver webhook',
    when: (j) => TERMINAL.includes(j.status) && !!j.webhook,
    confirm: (j) => [`Send the webhook of ${j.job_id} again?`, `Its ${j.status} callback is queued again for ${j.webhook.url}.`, 'Redeliver'],
    run: (j) => api(`api/jobs/${encodeURIComponent(j.job_id)}/webhook/redeliver`, { method: 'POST' }),
    done: 'Webhook queued for redelivery',
  },
  {
    id: 'delete',
    label: 'Delete',
    danger: true,
    when: (j) => j.status !== 'processing',
    confirm: (j) => [`Delete job ${j.job_id}?`, 'The job, its logs and its results are removed. This cannot be undone.', 'Delete job'],
    run: (j) => api(`api/jobs/${encodeURIComponent(j.job_id)}`, { method: 'DELETE' }),
    done: 'Deleted',
  },
];

export const createJobPanel = ({ onChanged, onClosed, onShowBatch }) => {
  const panel = $('#job-panel');
  const parts = {};
  let job = null;
  let currentId = null;
  let generation = 0;

  const build = () => {
    const names = ['head', 'facts', 'progress', 'error', 'actions', 'result', 'results', 'artifacts', 'usage', 'webhook', 'parameters', 'logs'];
    for (const n of names) parts[n] = h('section', { class: `panel-${n}` });
    const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Close the job panel', onclick: () => closePanel() }, '×');
    fill(panel, close, names.map((n) => parts[n]));
  };

  const fact = (label, value, opts = {}) => [h('dt', {}, label), h('dd', opts, value ?? '—')];

  const renderFacts = () => {
    const j = job;
    const d = jobDuration(j);
    fill(
      parts.facts,
      h(
        'dl',
        { class: 'facts' },
        fact('Job id', j.job_id, { class: 'mono' }),
        fact('External id', j.external_id, { class: 'mono' }),
        fact('Batch', j.batch_id ? h('button', { type: 'button', class: 'link mono', onclick: () => onShowBatch(j.batch_id) }, j.batch_id) : null),
        fact('User', j.user_id),
        fact('Created', fmtTime(j.created_at)),
        fact('Started', j.processing_started_at ? fmtTime(j.processing_started_at) : null),
        fact('Finished', j.completed_at ? fmtTime(j.completed_at) : null),
        fact('Duration', d === null ? null : fmtDuration(d)),
        fact('Attempts', `${j.attempts ?? 0} of ${j.max_attempts ?? '?'}`),
        fact('Priority', String(j.priority ?? 0)),
        j.status === 'pending' && j.run_at && Date.parse(j.run_at) > Date.now() ? fact('Not before', fmtTime(j.run_at)) : null,
        j.status === 'processing' && j.lease_owner ? fact('Worker', j.lease_owner, { class: 'mono' }) : null,
      ),
    );
  };

  const renderProgress = () => {
    const j = job;
    const percent = j.status === 'completed' ? 100 : percentOf(j.progress);
    fill(
      parts.progress,
      h('h3', {}, 'Progress'),
      progressBar(percent, j.status),
      h('p', { class: 'step' }, [j.progress?.step, j.progress?.message].filter(Boolean).join(' — ') || (j.status === 'pending' ? 'waiting for a worker' : '')),
    );
  };

  const runAction = async (a) => {
    const [title, message, label] = a.confirm(job);
    if (!(await confirmAction(title, message, label))) return;
    const id = job.job_id;
    try {
      await a.run(job);
      notify(`${a.done}: ${id}`);
      fill(parts.result, h('p', { class: 'result-ok', role: 'status' }, `${a.done} (${fmtTime(new Date().toISOString())})`));
      onChanged(id, a.id);
      if (a.id === 'delete') return closePanel();
      await refresh();
    } catch (err) {
      fill(parts.result, h('p', { class: 'result-error', role: 'alert' }, `${a.label} failed: ${err.message}`, h('br'), h('span', { class: 'hint' }, err.hint ?? '')));
      notifyError(`${a.label} failed`, err);
      if (err.status === 409 || err.status === 404) await refresh();
    }
  };

  const render = () => {
    const j = job;
    panel.dataset.status = j.status;
    fill(parts.head, h('h2', {}, h('span', { class: 'mono' }, j.job_type), ' ', badge(j.status)));
    renderFacts();
    renderProgress();
    section(parts.error, j.error, () => (j.error ? [h('h3', {}, 'Error'), h('p', { class: 'error-line' }, h('code', {}, j.error.code), ' ', j.error.message), j.error.details ? h('pre', { class: 'json' }, JSON.stringify(j.error.details, null, 2)) : null] : []));
    section(parts.actions, [j.status, !!j.webhook], () =>
      ACTIONS.filter((a) => a.when(j)).map((a) => h('button', { type: 'button', class: `action${a.danger ? ' danger' : ''}`, dataset: { action: a.id }, onclick: () => runAction(a) }, a.label)),
    );
    renderResults(parts.results, j);
    renderArtifacts(parts.artifacts, j);
    renderUsage(parts.usage, j);
    renderWebhook(parts.webhook, j);
    renderParameters(parts.parameters, j);
    renderLogs(parts.logs, j);
  };

  const refresh = async () => {
    const id = currentId;
    const gen = generation;
    if (!id) return;
    try {
      const { data } = await api(`api/jobs/${encodeURIComponent(id)}`);
      if (gen !== generation) return;
      job = data;
      render();
    } catch (err) {
      if (gen !== generation) return;
      if (err.status === 404) {
        fill(parts.result, h('p', { class: 'result-error', role: 'alert' }, 'This job no longer exists (deleted, or it belongs to another user).'));
      } else if (err.status !== 401) notifyError('Loading the job failed', err);
    }
  };
  const scheduleRefresh = throttle(() => void refresh(), 500);

  function closePanel() {
    generation += 1;
    currentId = null;
    job = null;
    scheduleRefresh.cancel();
    panel.hidden = true;
    onClosed();
  }

  build();

  /** Durations of a running job tick. */
  setInterval(() => {
    if (job && job.status === 'processing') renderFacts();
  }, 1000);

  return {
    get jobId() {
      return currentId;
    },
    async open(id) {
      generation += 1;
      currentId = id;
      job = null;
      build();
      fill(parts.head, h('p', { class: 'muted' }, `Loading ${id}…`));
      panel.hidden = false;
      await refresh();
    },
    close: closePanel,
    refresh,
    /** Many jobs changed at once (no single events): re-read the open job soon. */
    onResync() {
      if (currentId) scheduleRefresh();
    },
    /** A change from the stream: move the progress at once, re-read the job soon. */
    onJob(c) {
      if (!job || c.job_id !== currentId || c.version <= job.version) return;
      Object.assign(job, { status: c.status, progress: c.progress, version: c.version, updated_at: c.updated_at });
      panel.dataset.status = c.status;
      fill(parts.head, h('h2', {}, h('span', { class: 'mono' }, job.job_type), ' ', badge(job.status)));
      renderProgress();
      scheduleRefresh();
    },
  };
};
