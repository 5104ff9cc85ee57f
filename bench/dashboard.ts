/**
 * The dashboard with many jobs: a real server (API + worker, SQLite, an API key) holding
 * `--jobs` jobs (default 10000, enqueued as batches of 1000 while the page is open), then
 *  - `dashboard_api`: the page's requests (jobs page, filtered page, batches, stats) timed
 *    sequentially, p50/p95 in ms;
 *  - `dashboard_page` (headless Chromium, skipped with the reason when missing): sign-in to
 *    first rows, page reload to first rows, the API calls the page made while the jobs were
 *    drained, the events the stream sent meanwhile, the page's long tasks (main-thread stalls > 50 ms) meanwhile, and
 *    create→row-visible latency.
 *   node --import tsx bench/dashboard.ts [--jobs 10000]
 * stdout: JSON lines; diagnostics on stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServer } from '../src/api/server.js';
import { createRuntime } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config/load-config.js';
import { chromiumUnavailable, launchBrowser } from '../test/dashboard/browser.js';
import { openSse } from '../test/dashboard/sse-client.js';
import { emit, median, note } from './lib/bench-util.js';

const KEY = 'bench-dashboard-key-0123456789';
const argJobs = process.argv.indexOf('--jobs');
const JOBS = argJobs >= 0 ? Math.max(1000, Number(process.argv[argJobs + 1]) || 10_000) : 10_000;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) * 10) / 10;
};

const main = async (): Promise<void> => {
  const home = mkdtempSync(join(tmpdir(), 'secretary-bench-dashboard-'));
  const config = loadConfig({ home, env: {}, overrides: { log: { level: 'warn' }, auth: { api_keys: [{ key: KEY }] }, generic_worker: { max_concurrent: 8 } } });
  const rt = await createRuntime({ config, withWorker: true, logger: pino({ level: 'warn' }, process.stderr) });
  const { app, url } = await startServer(rt, { host: '127.0.0.1', port: 0 });
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const call = async (path: string, body?: unknown): Promise<any> =>
    (await fetch(`${url}${path}`, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) })).json();
  const drained = async (): Promise<void> => {
    for (;;) {
      const s = (await call('/api/stats')).data;
      if (s.queue.pending + s.queue.processing === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  let streamCounts: Record<string, number> = {};
  const enqueueAll = async (): Promise<number> => {
    const sse = await openSse(`${url}/api/events?access_token=${KEY}`);
    const t0 = performance.now();
    for (let b = 0; b < JOBS / 1000; b++) {
      await call('/api/jobs/batch', { batch_name: `bench-${b}`, jobs: Array.from({ length: 1000 }, (_, i) => ({ job_type: 'echo', parameters: { message: `m${b}-${i}` } })) });
    }
    await drained();
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
    sse.close();
    streamCounts = {};
    for (const e of sse.events) streamCounts[e.event] = (streamCounts[e.event] ?? 0) + 1;
    return ms;
  };
  const skip = chromiumUnavailable();
  const browser = skip ? null : await launchBrowser();
  try {
    let pageRecord: Record<string, unknown> = { bench: 'dashboard_page', skipped: skip };
    if (browser) {
      const page = await browser.context.newPage();
      const calls: Record<string, number> = {};
      page.on('request', (r) => {
        const p = new URL(r.url()).pathname;
        if (p.startsWith('/api/')) calls[p.replace(/job-[\w-]+/, ':id')] = (calls[p.replace(/job-[\w-]+/, ':id')] ?? 0) + 1;
      });
      await page.goto(`${url}/`);
      await page.fill('#login-key', KEY);
      let t0 = performance.now();
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#live-state.live-live');
      const signIn = performance.now() - t0;
      note(`page open; enqueueing ${JOBS} jobs while it watches`);
      // the page's main-thread stalls (long tasks > 50 ms) while 10k jobs run through
      await page.evaluate(`window.__long = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ entryTypes: ['longtask'] });`);
      const drainMs = await enqueueAll();
      const longTasks = (await page.evaluate('window.__long')) as number[];
      const during = { ...calls };
      await page.waitForTimeout(1500);
      t0 = performance.now();
      await page.reload();
      await page.waitForSelector('tr.job-row');
      const reload = performance.now() - t0;
      const live: number[] = [];
      for (let i = 0; i < 20; i++) {
        const s = performance.now();
        const id = (await call('/api/jobs', { job_type: 'echo', parameters: { message: `live-${i}` } })).data.job_id as string;
        await page.waitForSelector(`tr[data-job-id="${id}"]`);
        live.push(performance.now() - s);
      }
      pageRecord = {
        bench: 'dashboard_page',
        jobs: JOBS,
        sign_in_to_live_ms: Math.round(signIn),
        reload_to_rows_ms: Math.round(reload),
        drain_ms_with_page_open: Math.round(drainMs),
        api_calls_during_drain: during,
        sse_events_during_drain: streamCounts,
        page_long_tasks: longTasks.length,
        page_long_task_max_ms: Math.round(Math.max(0, ...longTasks)),
        create_to_row_ms_p50: Math.round(median(live)),
        create_to_row_ms_max: Math.round(Math.max(...live)),
      };
    } else {
      note(`no browser: ${skip}`);
      await enqueueAll();
    }
    const timed = async (path: string, n = 100): Promise<{ p50: number; p95: number }> => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        const r = await fetch(`${url}${path}`, { headers });
        await r.arrayBuffer();
        xs.push(performance.now() - s);
      }
      return { p50: pct(xs, 50), p95: pct(xs, 95) };
    };
    const total = (await call('/api/stats')).data.totals;
    emit({
      bench: 'dashboard_api',
      jobs_in_store: Object.values(total as Record<string, number>).reduce((a, b) => a + b, 0),
      jobs_page_50: await timed('/api/jobs?limit=50'),
      jobs_page_50_completed: await timed('/api/jobs?limit=50&status=completed'),
      jobs_page_200: await timed('/api/jobs?limit=200'),
      batches_page_25: await timed('/api/batches?limit=25'),
      stats_15min: await timed('/api/stats?minutes=15'),
    });
    emit(pageRecord);
  } finally {
    await browser?.close();
    await app.close();
    await rt.close();
    rmSync(home, { recursive: true, force: true });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`bench/dashboard failed: ${String(err instanceof Error ? err.stack : err)}\n`);
  process.exitCode = 1;
});
