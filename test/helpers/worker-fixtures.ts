/** Real SQLite stores and workers for worker tests; nothing of ours is mocked. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { HandlerRegistry, type JobTypeDefinition } from '../../src/worker/registry.js';
import { WorkerManager, type WorkerEvents, type WorkerLogger, type WorkerOptions } from '../../src/worker/worker-manager.js';
import type { JobStore } from '../../src/store/job-store.js';
import type { Job, JobStatus } from '../../src/core/job.js';

export const tempDir = (prefix = 'secretary-test-'): { dir: string; cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
};

export const openSqlite = async (path: string): Promise<SqliteJobStore> => {
  const store = new SqliteJobStore({ path });
  await store.init();
  return store;
};

export const quietLogger = (errors: unknown[] = []): WorkerLogger => ({
  info: () => {},
  warn: () => {},
  error: (o) => {
    errors.push(o);
  },
});

export const fastWorkerOptions = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  maxConcurrent: 5,
  pollIntervalMs: 100,
  leaseMs: 2000,
  heartbeatMs: 300,
  reaperIntervalMs: 200,
  timeoutMs: 30_000,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  progressIntervalMs: 50,
  ...over,
});

export const makeWorker = (
  store: JobStore,
  defs: JobTypeDefinition[],
  over: Partial<WorkerOptions> = {},
  events: WorkerEvents = {},
): WorkerManager => {
  const registry = new HandlerRegistry();
  for (const d of defs) registry.register(d);
  return new WorkerManager(store, registry, fastWorkerOptions(over), quietLogger(), events);
};

/** Polls the store until `pred` holds for the job (real time, bounded). */
export const waitForJob = async (
  store: JobStore,
  jobId: string,
  pred: (j: Job) => boolean,
  timeoutMs = 15_000,
): Promise<Job> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const j = await store.getJob(jobId);
    if (j && pred(j)) return j;
    if (Date.now() > end) throw new Error(`timeout waiting for ${jobId}: last state ${JSON.stringify(j?.status)} ${JSON.stringify(j?.error)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export const waitForStatus = (store: JobStore, jobId: string, status: JobStatus, timeoutMs?: number): Promise<Job> =>
  waitForJob(store, jobId, (j) => j.status === status, timeoutMs);

/** Waits until every job in the store is terminal. */
export const waitAllTerminal = async (store: JobStore, timeoutMs = 60_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await store.stats();
    const open = s.by_status.filter((b) => b.status === 'pending' || b.status === 'processing').reduce((a, b) => a + b.count, 0);
    if (open === 0) return;
    if (Date.now() > end) throw new Error(`timeout: ${open} jobs still open: ${JSON.stringify(s.by_status)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
