// The dashboard's entry point: asks for the API key when the server needs one, then wires
// the header, the jobs and batches views, the job panel and the live stream together.
import { api, getKey, setKey, setUnauthorizedHandler } from './api.js';
import { createBatchesView } from './batches-view.js';
import { $, fill } from './dom.js';
import { createHeaderStats } from './header-stats.js';
import { createJobPanel } from './job-panel.js';
import { createJobsView } from './jobs-view.js';
import { createLive } from './live.js';

const show = (which) => {
  $('#login').hidden = which !== 'login';
  $('#app').hidden = which !== 'app';
  $('#banner').hidden = which !== 'banner';
};

const setHash = (params) => {
  const q = new URLSearchParams(params).toString();
  history.replaceState(null, '', q ? `#${q}` : location.pathname + location.search);
};

const header = createHeaderStats();
let running = false;

const jobs = createJobsView({ onOpen: (id) => void openJob(id) });
const batches = createBatchesView({ onShowJobs: (id) => showBatch(id) });
const panel = createJobPanel({
  onChanged: (id, action) => {
    void jobs.reload();
    if (action === 'delete' && panel.jobId === id) setHash({});
  },
  onClosed: () => {
    jobs.select(null);
    setHash({});
  },
  onShowBatch: (id) => showBatch(id),
});

const openJob = async (id) => {
  jobs.select(id);
  setHash({ job: id });
  await panel.open(id);
};

const selectTab = (tab) => {
  for (const b of document.querySelectorAll('.tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  $('#jobs-view').hidden = tab !== 'jobs';
  $('#batches-view').hidden = tab !== 'batches';
  batches.setVisible(tab === 'batches');
};

const showBatch = (id) => {
  selectTab('jobs');
  void jobs.setFilters({ batch_id: id, status: '', search: '' });
};

const setLiveState = (state, detail = '') => {
  const el = $('#live-state');
  el.className = `live-state live-${state}`;
  fill(el, { connecting: 'connecting…', live: '● live', reconnecting: 'reconnecting…', down: 'offline' }[state] ?? state);
  el.title = detail || (state === 'live' ? 'changes appear as they happen' : 'live updates paused');
};

const live = createLive({
  onJob: (c) => {
    jobs.onJob(c);
    panel.onJob(c);
    batches.onJob(c);
    header.onJob(c);
  },
  onBatch: (c) => batches.onBatch(c),
  onReady: () => {
    void jobs.reload();
    if (panel.jobId) void panel.refresh();
  },
  onResync: () => {
    jobs.onResync();
    panel.onResync();
    batches.onResync();
    header.onResync();
  },
  onState: setLiveState,
  probe: () => api('api/jobs?limit=1'),
});

const stop = () => {
  running = false;
  live.stop();
  header.stop();
};

const askForKey = (message) => {
  stop();
  show('login');
  fill($('#login-error'), message);
  $('#login-key').value = '';
  $('#login-key').focus();
};

setUnauthorizedHandler(() => {
  if (!running && !$('#login').hidden) return;
  askForKey(getKey() ? 'The API key was refused (401). Enter a valid API key.' : 'This server needs an API key. Enter it to continue.');
});

const start = () => {
  show('app');
  $('#signout').hidden = !getKey();
  if (running) return;
  running = true;
  live.start();
  header.start();
  const hash = new URLSearchParams(location.hash.slice(1));
  const jobId = hash.get('job');
  if (jobId) void openJob(jobId);
};

/** Checks the key (or no key) against the API; true when the server accepts it. */
const tryKey = async () => {
  try {
    await api('api/jobs?limit=1');
    return true;
  } catch (err) {
    if (err.status === 401) return false;
    throw err;
  }
};

const boot = async () => {
  try {
    const health = await api('api/health');
    jobs.setJobTypes(health.job_types ?? []);
    fill($('#version'), `v${health.version}`);
    if (await tryKey()) {
      await jobs.reload();
      return start();
    }
    askForKey(getKey() ? 'The stored API key was refused (401). Enter a valid API key.' : 'This server needs an API key. Enter it to continue.');
  } catch (err) {
    show('banner');
    fill($('#banner-text'), `${err.message}. ${err.hint ?? ''}`);
  }
};

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('#login-key').value.trim();
  if (!key) return void fill($('#login-error'), 'Enter the API key first.');
  setKey(key);
  fill($('#login-error'), 'Checking…');
  try {
    if (await tryKey()) {
      fill($('#login-error'), '');
      await jobs.reload();
      return start();
    }
    setKey('');
    fill($('#login-error'), 'That key was refused (401). Enter a valid API key: SECRETARY_SERVICE_API_KEY or a key of auth.api_keys.');
  } catch (err) {
    fill($('#login-error'), `${err.message}. ${err.hint ?? ''}`);
  }
});

$('#signout').addEventListener('click', () => {
  setKey('');
  panel.close();
  askForKey('Signed out. Enter an API key to continue.');
});
$('#banner-retry').addEventListener('click', () => void boot());
for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => selectTab(b.dataset.tab));
window.addEventListener('hashchange', () => {
  const id = new URLSearchParams(location.hash.slice(1)).get('job');
  if (id && id !== panel.jobId && running) void openJob(id);
});

void boot();
