/** Worker invariants on a real SQLite store: limits, push pickup, timeouts, retries, cancel, shutdown. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetryLaterError, UnrecoverableError } from '../../src/core/errors.js';
import type { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import type { WorkerManager } from '../../src/worker/worker-manager.js';
import {
  makeWorker,
  openSqlite,
  tempDir,
  waitAllTerminal,
  waitForJob,
  waitForStatus,
} from '../helpers/worker-fixtures.js';

let store: SqliteJobStore;
let cleanup: () => void;
const workers: WorkerManager[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const abortable = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

beforeEach(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  store = await openSqlite(join(t.dir, 'w.db'));
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop(100);
  await store.close();
  cleanup();
});
const start = (...args: Parameters<typeof makeWorker>) => {
  const w = makeWorker(...args);
  workers.push(w);
  w.start();
  return w;
};

/** A job type whose handler counts its runs and returns `{}`. */
const countedType = (type: string) => {
  const runs = {
    started: 0,
    def: {
      type,
      handler: async () => {
        runs.started++;
        return {};
      },
    },
  };
  return runs;
};

// 1: one claim at a time (SQLite's default); 3: claims overlap, each reserving its slots.
describe.each([1, 3])('concurrency limits with %i claim(s) in flight', (claimsInFlight) => {
  it('never exceeds max_concurrent or max_concurrent_per_type under load', async () => {
    let running = 0;
    let peak = 0;
    const perType: Record<string, number> = { a: 0, b: 0 };
    const peakType: Record<string, number> = { a: 0, b: 0 };
    const handler = (t: 'a' | 'b') => async () => {
      running++;
      perType[t]!++;
      peak = Math.max(peak, running);
      peakType[t] = Math.max(peakType[t]!, perType[t]!);
      await sleep(Math.random() * 5);
      running--;
      perType[t]!--;
      return {};
    };
    await store.createJobs(
      Array.from({ length: 600 }, (_, i) => ({ job_type: i % 3 === 0 ? 'a' : 'b' })),
    );
    start(
      store,
      [
        { type: 'a', handler: handler('a') },
        { type: 'b', handler: handler('b') },
      ],
      {
        maxConcurrent: 8,
        maxConcurrentPerType: { a: 2 },
        claimsInFlight,
      },
    );
    await waitAllTerminal(store);
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(2);
    expect(peakType.a).toBeLessThanOrEqual(2);
    expect((await store.stats()).by_status.every((s) => s.status === 'completed')).toBe(true);
  });

  it('honours a cluster-wide cap shared by two workers', async () => {
    let running = 0;
    let peak = 0;
    const def = {
      type: 'capped',
      handler: async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(10);
        running--;
        return {};
      },
    };
    await store.createJobs(Array.from({ length: 60 }, () => ({ job_type: 'capped' })));
    start(store, [def], {
      maxConcurrent: 5,
      clusterMaxConcurrentPerType: { capped: 3 },
      claimsInFlight,
    });
    start(store, [def], {
      maxConcurrent: 5,
      clusterMaxConcurrentPerType: { capped: 3 },
      claimsInFlight,
    });
    await waitAllTerminal(store);
    expect(peak).toBeLessThanOrEqual(3);
  });
});

describe('pickup', () => {
  it('is push-driven: a job starts at once although the poll interval is an hour', async () => {
    const runs = countedType('x');
    start(store, [runs.def], { pollIntervalMs: 3_600_000 });
    await sleep(50);
    const { job } = await store.createJob({ job_type: 'x' });
    const done = await waitForStatus(store, job.job_id, 'completed', 5000);
    expect(runs.started).toBe(1);
    expect(done.results).toEqual({});
  });

  it('with two claims allowed, a wakeup on an idle queue is answered by one claim', async () => {
    const claims: number[] = [];
    start(
      store,
      [{ type: 'x', handler: async () => ({}) }],
      {
        pollIntervalMs: 3_600_000,
        claimsInFlight: 2,
        maxConcurrent: 10,
      },
      { onClaim: (n) => claims.push(n) },
    );
    await sleep(50);
    claims.length = 0;
    const { job } = await store.createJob({ job_type: 'x' });
    await waitForStatus(store, job.job_id, 'completed', 5000);
    for (let i = 0; i < 100 && claims.length < 2; i++) await sleep(20);
    await sleep(50);
    // the claim that finds the job, then the one after it ends; no second claim finding nothing
    expect(claims).toEqual([1, 0]);
  });

  it('holds claims while the claim gate is busy and claims once it is idle', async () => {
    let busy = true;
    const runs = countedType('x');
    start(store, [runs.def], {
      pollIntervalMs: 3_600_000,
      claimGate: { busy: () => busy, maxDeferMs: 3_600_000 },
    });
    await sleep(50);
    const { job } = await store.createJob({ job_type: 'x' });
    await sleep(300);
    expect(runs.started).toBe(0);
    expect((await store.getJob(job.job_id))?.status).toBe('pending');
    busy = false;
    await waitForStatus(store, job.job_id, 'completed', 5000);
    expect(runs.started).toBe(1);
  });

  it('a gate that stays busy delays claims by at most maxDeferMs, it never starves them', async () => {
    start(store, [{ type: 'x', handler: async () => ({}) }], {
      pollIntervalMs: 3_600_000,
      claimGate: { busy: () => true, maxDeferMs: 200 },
    });
    await sleep(50);
    const { job } = await store.createJob({ job_type: 'x' });
    await waitForStatus(store, job.job_id, 'completed', 5000);
  });

  it('runs FIFO within a priority and higher priority first', async () => {
    const order: number[] = [];
    await store.createJobs([1, 2, 3].map((n) => ({ job_type: 'o', parameters: { n } })));
    await store.createJob({ job_type: 'o', parameters: { n: 0 }, priority: 5 });
    start(
      store,
      [
        {
          type: 'o',
          handler: async (job) => {
            order.push(job.parameters.n as number);
            return {};
          },
        },
      ],
      { maxConcurrent: 1 },
    );
    await waitAllTerminal(store);
    expect(order).toEqual([0, 1, 2, 3]);
  });
});

describe('failures', () => {
  it('retries with backoff up to max_attempts, then fails with the last error', async () => {
    const seen: number[] = [];
    const { job } = await store.createJob({ job_type: 'flaky', max_attempts: 3 });
    start(store, [
      {
        type: 'flaky',
        handler: async (_j, ctx) => {
          seen.push(ctx.attempt);
          throw new Error(`boom ${ctx.attempt}`);
        },
      },
    ]);
    const failed = await waitForStatus(store, job.job_id, 'failed');
    expect(seen).toEqual([1, 2, 3]);
    expect(failed.attempts).toBe(3);
    expect(failed.error).toMatchObject({ code: 'HANDLER_ERROR', message: 'boom 3' });
  });

  it('succeeds on a later attempt and clears the error', async () => {
    const { job } = await store.createJob({ job_type: 'once', max_attempts: 3 });
    start(store, [
      {
        type: 'once',
        handler: async (_j, ctx) => {
          if (ctx.attempt === 1) throw new RetryLaterError('later', 10);
          return { ok: ctx.attempt };
        },
      },
    ]);
    const done = await waitForStatus(store, job.job_id, 'completed');
    expect(done.results).toEqual({ ok: 2 });
    expect(done.error).toBeNull();
  });

  it('UnrecoverableError fails at once', async () => {
    const { job } = await store.createJob({ job_type: 'u', max_attempts: 5 });
    start(store, [
      {
        type: 'u',
        handler: async () => {
          throw new UnrecoverableError('no way', 'UNSUPPORTED_FILE');
        },
      },
    ]);
    const failed = await waitForStatus(store, job.job_id, 'failed');
    expect(failed.attempts).toBe(1);
    expect(failed.error?.code).toBe('UNSUPPORTED_FILE');
  });

  it('a handler that throws a non-Error or never settles does not corrupt anything', async () => {
    const a = (await store.createJob({ job_type: 'str', max_attempts: 1 })).job;
    const b = (await store.createJob({ job_type: 'nul', max_attempts: 1 })).job;
    const c = (await store.createJob({ job_type: 'hang', max_attempts: 1 })).job;
    start(store, [
      {
        type: 'str',
        handler: async () => {
          throw 'a string';
        },
      },
      {
        type: 'nul',
        handler: async () => {
          throw null;
        },
      },
      { type: 'hang', handler: () => new Promise(() => {}), timeoutSec: 0.3 },
    ]);
    expect((await waitForStatus(store, a.job_id, 'failed')).error).toMatchObject({
      code: 'HANDLER_ERROR',
      message: 'a string',
    });
    expect((await waitForStatus(store, b.job_id, 'failed')).error?.code).toBe('HANDLER_ERROR');
    expect((await waitForStatus(store, c.job_id, 'failed')).error?.code).toBe('PROCESSING_TIMEOUT');
  });

  it('a timeout aborts the handler signal and fails with PROCESSING_TIMEOUT', async () => {
    let aborted = false;
    const { job } = await store.createJob({ job_type: 'slow' });
    start(
      store,
      [
        {
          type: 'slow',
          handler: async (_j, ctx) => {
            try {
              await abortable(10_000, ctx.signal);
            } catch (e) {
              aborted = true;
              throw e;
            }
            return {};
          },
        },
      ],
      {
        timeoutMsPerType: { slow: 200 },
      },
    );
    const failed = await waitForStatus(store, job.job_id, 'failed');
    expect(failed.error?.code).toBe('PROCESSING_TIMEOUT');
    expect(failed.attempts).toBe(1);
    expect(aborted).toBe(true);
  });

  it('fails jobs of an unknown job_type with UNKNOWN_JOB_TYPE', async () => {
    const { job } = await store.createJob({ job_type: 'nobody-knows-me' });
    start(store, [{ type: 'known', handler: async () => ({}) }]);
    const failed = await waitForStatus(store, job.job_id, 'failed');
    expect(failed.error?.code).toBe('UNKNOWN_JOB_TYPE');
  });
});

describe('cancel and shutdown', () => {
  it('cancelling a running job aborts its handler and nothing is written after', async () => {
    let aborted = false;
    const { job } = await store.createJob({ job_type: 'c' });
    start(store, [
      {
        type: 'c',
        handler: async (_j, ctx) => {
          ctx.progress('working', 10);
          try {
            await abortable(10_000, ctx.signal);
          } catch (e) {
            aborted = true;
            ctx.progress('late', 90);
            throw e;
          }
          return {};
        },
      },
    ]);
    await waitForStatus(store, job.job_id, 'processing');
    await sleep(50);
    const res = await store.cancelJob(job.job_id, 'user asked');
    expect(res.outcome).toBe('cancelled');
    await sleep(200);
    const after = (await store.getJob(job.job_id))!;
    expect(aborted).toBe(true);
    expect(after.status).toBe('cancelled');
    expect(after.error).toMatchObject({ code: 'CANCELLED', message: 'user asked' });
    expect(after.progress?.step).not.toBe('late');
  });

  it('graceful shutdown waits for short jobs and hands long ones back to pending', async () => {
    const short = (await store.createJob({ job_type: 's' })).job;
    const long = (await store.createJob({ job_type: 'l' })).job;
    const w = makeWorker(store, [
      {
        type: 's',
        handler: async (_j, ctx) => {
          await abortable(100, ctx.signal);
          return { done: true };
        },
      },
      {
        type: 'l',
        handler: async (_j, ctx) => {
          await abortable(60_000, ctx.signal);
          return {};
        },
      },
    ]);
    w.start();
    await waitForStatus(store, long.job_id, 'processing');
    await waitForStatus(store, short.job_id, 'processing');
    await w.stop(400);
    expect((await store.getJob(short.job_id))!.status).toBe('completed');
    const back = (await store.getJob(long.job_id))!;
    expect(back.status).toBe('pending');
    expect(back.attempts).toBe(0);
    expect(back.logs.some((l) => l.message.includes('released'))).toBe(true);
    // and a new worker finishes it
    start(store, [{ type: 'l', handler: async () => ({ second: true }) }]);
    expect((await waitForStatus(store, long.job_id, 'completed')).results).toEqual({
      second: true,
    });
  });
});

describe('handler context', () => {
  it('progress is monotonic, logs and usage are stored, oversized logs are capped', async () => {
    const { job } = await store.createJob({ job_type: 'ctx' });
    start(store, [
      {
        type: 'ctx',
        handler: async (_j, ctx) => {
          ctx.progress('a', 50, 'half');
          ctx.progress('b', 20, 'lower');
          ctx.log('info', 'x'.repeat(100_000));
          ctx.log('bogus' as never, 'odd level');
          ctx.usage.record({ model: 'm', purpose: 'test', tokens: 7, duration: 3, processor: 'p' });
          await sleep(120);
          return { ok: 1 };
        },
      },
    ]);
    const done = await waitForStatus(store, job.job_id, 'completed');
    expect(done.progress).toEqual({
      step: 'completed',
      percent: 100,
      message: 'Verarbeitung abgeschlossen',
    });
    expect(done.logs.length).toBe(2);
    expect(done.logs[0]!.message.length).toBeLessThan(5000);
    expect(done.logs[1]!.level).toBe('info');
    expect(done.llm_info).toMatchObject({ requests_count: 1, total_tokens: 7 });
    const mid = await waitForJob(store, job.job_id, () => true);
    expect(mid.processing_started_at).not.toBeNull();
  });
});
