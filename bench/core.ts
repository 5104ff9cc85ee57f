/**
 * Core benchmark: no-op jobs through the real store and worker.
 *   npm run bench:core [-- --store <url>] [--jobs 20000] [--quick]
 * Prints one JSON line per measurement on stdout (drain at concurrency 1, 10, 50; latency).
 */
import { HandlerRegistry } from '../src/worker/registry.js';
import { WorkerManager, type WorkerLogger } from '../src/worker/worker-manager.js';
import type { NewJob } from '../src/core/job.js';
import { argValue, note, openBenchStore, percentile, round } from './lib/bench-store.js';

const storeUrl = argValue('--store');
const quick = process.argv.includes('--quick');
const total = Number(argValue('--jobs') ?? (quick ? 5000 : 20000));
const silent: WorkerLogger = { info: () => {}, warn: () => {}, error: (o, m) => note(`worker error: ${m} ${JSON.stringify(o)}`) };

const workerOptions = (maxConcurrent: number) => ({
  maxConcurrent,
  pollIntervalMs: 1000,
  leaseMs: 30_000,
  heartbeatMs: 10_000,
  reaperIntervalMs: 30_000,
  timeoutMs: 60_000,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
});

const noopRegistry = (onStart?: () => void): HandlerRegistry =>
  new HandlerRegistry().register({
    type: 'noop',
    handler: async () => {
      onStart?.();
      return {};
    },
  });

const drain = async (concurrency: number): Promise<void> => {
  const bs = await openBenchStore(storeUrl);
  try {
    const jobs: NewJob[] = Array.from({ length: total }, () => ({ job_type: 'noop' }));
    const t0 = performance.now();
    for (let i = 0; i < jobs.length; i += 1000) await bs.store.createJobs(jobs.slice(i, i + 1000));
    const enqueueS = (performance.now() - t0) / 1000;
    let done = 0;
    let finish: () => void = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const worker = new WorkerManager(bs.store, noopRegistry(), workerOptions(concurrency), silent, {
      onJobEnd: () => {
        if (++done === total) finish();
      },
    });
    const t1 = performance.now();
    worker.start();
    await finished;
    const drainS = (performance.now() - t1) / 1000;
    await worker.stop(5000);
    console.log(
      JSON.stringify({
        bench: 'drain',
        store: bs.kind,
        concurrency,
        jobs: total,
        enqueue_jobs_per_s: Math.round(total / enqueueS),
        drain_jobs_per_s: Math.round(total / drainS),
      }),
    );
  } finally {
    await bs.dispose();
  }
};

const latency = async (n: number): Promise<void> => {
  const bs = await openBenchStore(storeUrl);
  try {
    let started: () => void = () => {};
    const worker = new WorkerManager(bs.store, noopRegistry(() => started()), workerOptions(10), silent);
    worker.start();
    await new Promise((r) => setTimeout(r, 200));
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const began = new Promise<void>((r) => (started = r));
      const t0 = performance.now();
      await bs.store.createJob({ job_type: 'noop' });
      await began;
      samples.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 2));
    }
    await worker.stop(5000);
    samples.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        bench: 'latency',
        store: bs.kind,
        jobs: n,
        p50_ms: round(percentile(samples, 50), 3),
        p95_ms: round(percentile(samples, 95), 3),
        p99_ms: round(percentile(samples, 99), 3),
        max_ms: round(samples[samples.length - 1] ?? NaN, 3),
      }),
    );
  } finally {
    await bs.dispose();
  }
};

for (const c of [1, 10, 50]) {
  note(`drain: ${total} no-op jobs at concurrency ${c} on ${storeUrl ?? 'sqlite'} …`);
  await drain(c);
}
note('latency: 200 sequential jobs on an idle worker …');
await latency(200);
