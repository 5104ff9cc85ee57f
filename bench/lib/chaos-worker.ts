/**
 * A worker process for the chaos test. Env: STORE_URL, LOG (one `<job_id> <pid>` line per
 * handler start), LEASE_MS. Handlers sleep 0..MAX_SLEEP_MS at random.
 */
import { appendFileSync } from 'node:fs';
import { createStore } from '../../src/store/create-store.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import { WorkerManager } from '../../src/worker/worker-manager.js';

const env = process.env;
const store = await createStore({ url: env.STORE_URL! });
const maxSleep = Number(env.MAX_SLEEP_MS ?? 1000);
const registry = new HandlerRegistry().register({
  type: 'chaos',
  handler: async (job, ctx) => {
    appendFileSync(env.LOG!, `${job.job_id} ${process.pid}\n`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, Math.random() * maxSleep);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(ctx.signal.reason);
      });
    });
    return {};
  },
});
const leaseMs = Number(env.LEASE_MS ?? 1500);
const worker = new WorkerManager(
  store,
  registry,
  {
    maxConcurrent: Number(env.CONCURRENCY ?? 5),
    pollIntervalMs: 250,
    leaseMs,
    heartbeatMs: Math.floor(leaseMs / 3),
    reaperIntervalMs: 300,
    timeoutMs: 60_000,
    backoffBaseMs: 50,
    backoffMaxMs: 500,
  },
  { info: () => {}, warn: () => {}, error: (o, m) => process.stderr.write(`[worker ${process.pid}] ${m} ${JSON.stringify(o)}\n`) },
);
worker.start();
process.stdout.write('ready\n');
