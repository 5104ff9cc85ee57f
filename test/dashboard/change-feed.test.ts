/**
 * The shared change feed and the activity tracker across store instances: two SQLite stores
 * on one file (no cross-process events: the feed's fallback poll and the tracker's stats
 * correction must see the other instance's work) and two PostgreSQL stores on one schema
 * (LISTEN/NOTIFY; skipped with the reason when PostgreSQL is not reachable, an error in CI).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { echoJobType } from '../../src/handlers/echo/echo-handler.js';
import type { JobStore } from '../../src/store/job-store.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import { WorkerManager } from '../../src/worker/worker-manager.js';
import { ActivityTracker } from '../../src/api/activity-tracker.js';
import { ChangeFeed, type FeedChange } from '../../src/api/change-feed.js';
import { dropSchema, freshSchemaName, postgresUnavailable, postgresUrl } from '../helpers/postgres.js';
import { fastWorkerOptions, openSqlite, quietLogger, tempDir } from '../helpers/worker-fixtures.js';
import { until } from '../api/api-fixtures.js';

const workerOn = (store: JobStore): WorkerManager => {
  const w = new WorkerManager(store, new HandlerRegistry().register(echoJobType), fastWorkerOptions(), quietLogger());
  w.start();
  return w;
};

/** Runs the same checks on a pair of store instances sharing one database. */
const feedAcrossInstances = async (watcher: JobStore, other: JobStore): Promise<void> => {
  const seen: FeedChange[] = [];
  const errors: Error[] = [];
  const feed = new ChangeFeed(watcher, { pollMs: 100, onError: (e) => errors.push(e) });
  const stop = feed.listen((c) => seen.push(c));
  const worker = workerOn(other);
  try {
    await new Promise((r) => setTimeout(r, 250)); // the fallback poll takes its first look
    const { job } = await other.createJob({ job_type: 'echo', parameters: { sleep_ms: 600, steps: 3 } });
    const { batch } = await other.createBatch({ batch_name: 'b', jobs: [{ job_type: 'echo', parameters: {} }] });
    await until(() => seen.some((c) => c.kind === 'job' && c.job_id === job.job_id && c.status === 'completed'), 10_000);
    await until(() => seen.some((c) => c.kind === 'batch' && c.batch_id === batch.batch_id), 10_000);
    const mine = seen.filter((c): c is Extract<FeedChange, { kind: 'job' }> => c.kind === 'job' && c.job_id === job.job_id);
    expect(mine.some((c) => c.status === 'processing')).toBe(true);
    const versions = mine.map((c) => c.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(errors).toEqual([]);
  } finally {
    stop();
    await worker.stop(2000);
  }
  expect(feed.size).toBe(0);
};

describe('change feed and activity tracker on two SQLite instances of one file', () => {
  const tmp = tempDir('secretary-feed-');
  afterAll(() => tmp.cleanup());

  it('the feed sees the other instance’s jobs and batches through its fallback poll', async () => {
    const path = join(tmp.dir, 'a.db');
    const a = await openSqlite(path);
    const b = await openSqlite(path);
    try {
      expect(a.capabilities.crossProcessEvents).toBe(false);
      await feedAcrossInstances(a, b);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the tracker counts endings it saw no event for from the store totals', async () => {
    const path = join(tmp.dir, 'b.db');
    const a = await openSqlite(path);
    const b = await openSqlite(path);
    const tracker = new ActivityTracker(a, { sampleMs: 60_000 });
    const worker = workerOn(b);
    try {
      tracker.start();
      await tracker.sample();
      for (let i = 0; i < 4; i++) await b.createJob({ job_type: 'echo', parameters: {} });
      await b.createJob({ job_type: 'echo', parameters: { fail_with: 'unrecoverable' } });
      // a job ended on this instance is counted from its event, and not twice
      const { job: local } = await a.createJob({ job_type: 'other', parameters: {} });
      await a.cancelJob(local.job_id);
      await until(async () => (await b.listJobs({ status: ['pending', 'processing'], job_type: 'echo' })).items.length === 0, 10_000);
      await tracker.sample();
      const h = tracker.history(5);
      const sum = (k: 'completed' | 'failed' | 'cancelled') => h.throughput.reduce((n, x) => n + x[k], 0);
      expect({ completed: sum('completed'), failed: sum('failed'), cancelled: sum('cancelled') }).toEqual({ completed: 4, failed: 1, cancelled: 1 });
      expect(h.queue.length).toBe(2);
      expect(h.queue[1]).toMatchObject({ pending: 0, processing: 0 });
    } finally {
      await worker.stop(2000);
      await tracker.stop();
      await a.close();
      await b.close();
    }
  });
});

const pgSkip = await postgresUnavailable();
if (pgSkip) console.warn(`PostgreSQL change feed test skipped: ${pgSkip}`);

describe.skipIf(!!pgSkip)('change feed on two PostgreSQL instances of one schema', () => {
  const schema = freshSchemaName('secretary_feed');
  afterAll(async () => dropSchema(schema));

  it('the feed sees the other instance’s changes through LISTEN/NOTIFY', async () => {
    const a = new PostgresJobStore({ url: postgresUrl, schema, poolSize: 2 });
    const b = new PostgresJobStore({ url: postgresUrl, schema, poolSize: 2 });
    await a.init();
    await b.init();
    try {
      expect(a.capabilities.crossProcessEvents).toBe(true);
      await feedAcrossInstances(a, b);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
