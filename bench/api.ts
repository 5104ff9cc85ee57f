/**
 * API throughput: a real server (API + worker draining `echo` no-op jobs, SQLite) in this
 * process, loaded with autocannon over loopback.
 *   node --import tsx bench/api.ts
 * stdout: one JSON line per bench (`api_post_jobs`, `api_get_job`); diagnostics on stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { ApiMetrics } from '../src/api/metrics.js';
import { startServer } from '../src/api/server.js';
import { loadConfig } from '../src/config/load-config.js';
import { createRuntime } from '../src/cli/runtime.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

/** autocannon runs in a worker thread, so load generation does not compete with the server's event loop. */
const run = (opts: autocannon.Options): Promise<autocannon.Result> =>
  new Promise((resolve, reject) => {
    autocannon({ workers: 1, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });

const main = async (): Promise<void> => {
  const home = mkdtempSync(join(tmpdir(), 'secretary-bench-api-'));
  const config = loadConfig({ home, env: {}, overrides: { log: { level: 'warn' }, generic_worker: { max_concurrent: 8 } } });
  const metrics = new ApiMetrics();
  const rt = await createRuntime({ config, withWorker: true, logger: pino({ level: 'warn' }, process.stderr), workerEvents: metrics.workerEvents });
  const { app, url } = await startServer(rt, { host: '127.0.0.1', port: 0, metrics });
  try {
    const body = JSON.stringify({ job_type: 'echo', parameters: { message: 'bench' } });
    // warm-up
    await run({ url: `${url}/api/jobs`, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: 4, duration: 1 });
    const post = await run({
      url: `${url}/api/jobs`,
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      connections: CONNECTIONS,
      duration: DURATION_S,
    });
    const stats = await rt.store.stats();
    process.stderr.write(
      `POST: ${post.requests.average} req/s avg, p99 ${post.latency.p99} ms, non-2xx ${post.non2xx}, errors ${post.errors}; store: ${JSON.stringify(stats.by_status)}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ bench: 'api_post_jobs', req_per_s: Math.round(post.requests.average), p99_ms: post.latency.p99, p50_ms: post.latency.p50, non_2xx: post.non2xx, errors: post.errors, connections: CONNECTIONS, duration_s: DURATION_S, completed_by_worker: stats.by_status.filter((s) => s.status === 'completed').reduce((n, s) => n + s.count, 0) })}\n`,
    );
    const created = await app.inject({ method: 'POST', url: '/api/jobs', payload: { job_type: 'echo', parameters: { message: 'get' } } });
    const id = (created.json() as { data: { job_id: string } }).data.job_id;
    const get = await run({ url: `${url}/api/jobs/${id}`, connections: CONNECTIONS, duration: DURATION_S });
    process.stderr.write(`GET: ${get.requests.average} req/s avg, p99 ${get.latency.p99} ms, non-2xx ${get.non2xx}\n`);
    process.stdout.write(
      `${JSON.stringify({ bench: 'api_get_job', req_per_s: Math.round(get.requests.average), p99_ms: get.latency.p99, p50_ms: get.latency.p50, non_2xx: get.non2xx, errors: get.errors, connections: CONNECTIONS, duration_s: DURATION_S })}\n`,
    );
  } finally {
    await app.close();
    await rt.close();
    rmSync(home, { recursive: true, force: true });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`bench/api failed: ${String(err instanceof Error ? err.stack : err)}\n`);
  process.exitCode = 1;
});
