// The header: queue depth now, queue depth and jobs ended per minute over the last 15
// minutes (from GET api/stats), and the worker of this server process. Re-read every 5 s
// while the tab is visible, and soon after a job ends.
import { api } from './api.js';
import { $, fill, h, throttle } from './dom.js';
import { fmtInt } from './format.js';
import { queueChart, throughputChart } from './charts.js';

const MINUTES = 15;

export const createHeaderStats = () => {
  let timer = null;
  let failures = 0;

  const render = (s) => {
    fill($('#q-pending'), fmtInt(s.queue.pending));
    fill($('#q-processing'), fmtInt(s.queue.processing));
    $('#q-pending').title = `${s.queue.ready} ready now, ${s.queue.scheduled} scheduled for later (retry backoff or run_at)`;
    const series = s.series;
    const now = { t: s.at, pending: s.queue.pending, ready: s.queue.ready, processing: s.queue.processing };
    fill($('#chart-queue'), queueChart([...series.queue, now], MINUTES * 60_000, Date.parse(s.at)));
    fill($('#chart-throughput'), throughputChart(series.throughput));
    const recent = series.throughput.slice(-5);
    const perMin = recent.reduce((n, b) => n + b.completed, 0) / Math.max(1, recent.length);
    fill($('#throughput-now'), `${perMin >= 10 ? Math.round(perMin) : perMin.toFixed(1)}/min`);
    $('#throughput-now').title = `completed per minute, average of the last ${recent.length} minutes (history since ${series.tracking_since})`;
    const w = s.worker;
    const health = $('#worker-health');
    health.className = `health ${w ? 'health-ok' : 'health-none'}`;
    fill(
      health,
      w ? `worker: ${w.running_jobs}/${w.max_concurrent} running` : 'no worker in this process',
      h('small', {}, ` · ${s.store.name}${s.outbox_pending ? ` · ${s.outbox_pending} webhooks queued` : ''}`),
    );
    health.title = w ? `worker ${w.id}` : 'this server runs with --no-worker; jobs are run by other processes';
  };

  const load = async () => {
    try {
      render((await api(`api/stats?minutes=${MINUTES}`)).data);
      failures = 0;
    } catch (err) {
      if (err.status === 401) return;
      failures += 1;
      const health = $('#worker-health');
      health.className = 'health health-bad';
      fill(health, failures > 1 ? `server unreachable: ${err.message}` : 'stats unavailable');
      health.title = err.hint ?? '';
    }
  };
  const soon = throttle(() => void load(), 2000);

  const tick = () => {
    if (document.visibilityState === 'visible') void load();
  };

  return {
    start() {
      void load();
      timer ??= setInterval(tick, 5000);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
    onResync: () => soon(),
    onJob(c) {
      if (c.status === 'completed' || c.status === 'failed' || c.status === 'cancelled' || c.status === 'pending') soon();
    },
  };
};
