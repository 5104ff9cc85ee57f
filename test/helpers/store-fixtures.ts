/**
 * Small helpers for store tests: job inputs, claiming, waiting, event recording.
 * Nothing here fakes the store; every helper drives a real `JobStore`.
 */
import { expect } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import type {
  Batch,
  ClaimedJob,
  Job,
  JobError,
  LogEntry,
  LogLevel,
  NewJob,
  WebhookConfig,
} from '../../src/core/job.js';
import type { JobStore, Lease, OutboxRecord, StoreEvent } from '../../src/store/job-store.js';

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** An ISO instant `ms` milliseconds from now (negative: in the past). */
export const isoIn = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** A webhook that is never called: the store only records outbox entries. */
export const WEBHOOK: WebhookConfig = { url: 'http://127.0.0.1:9/hook', token: 'secret-token' };

export const newJob = (overrides: Partial<NewJob> = {}): NewJob => ({
  job_type: 'test',
  parameters: {},
  ...overrides,
});

export const logEntry = (message: string, level: LogLevel = 'info'): LogEntry => ({
  timestamp: new Date().toISOString(),
  level,
  message,
});

export const jobError = (code = 'HANDLER_ERROR', message = 'boom'): JobError => ({
  code,
  message,
  details: null,
});

export const leaseOf = (job: ClaimedJob): Lease => ({
  job_id: job.job_id,
  lease_token: job.lease_token,
});

/** Claims exactly one job of `type` (throws if the store hands out none or more). */
export const claimOne = async (
  store: JobStore,
  opts: { type?: string; owner?: string; leaseMs?: number } = {},
): Promise<ClaimedJob> => {
  const type = opts.type ?? 'test';
  const got = await store.claim({
    owner: opts.owner ?? 'worker-1',
    limit: 1,
    types: { [type]: 1 },
    leaseMs: opts.leaseMs ?? 30_000,
  });
  if (got.length !== 1 || !got[0])
    throw new Error(`claimOne(${type}): expected 1 job, got ${got.length}`);
  return got[0];
};

/** Creates one job and claims it. */
export const createAndClaim = async (
  store: JobStore,
  input: Partial<NewJob> = {},
  opts: { owner?: string; leaseMs?: number } = {},
): Promise<ClaimedJob> => {
  const type = input.job_type ?? `t-${Math.random().toString(36).slice(2, 10)}`;
  await store.createJob(newJob({ ...input, job_type: type }));
  return claimOne(store, { type, ...opts });
};

export const mustGetJob = async (store: JobStore, jobId: string): Promise<Job> => {
  const job = await store.getJob(jobId);
  if (!job) throw new Error(`job ${jobId} not found`);
  return job;
};

export const mustGetBatch = async (store: JobStore, batchId: string): Promise<Batch> => {
  const batch = await store.getBatch(batchId);
  if (!batch) throw new Error(`batch ${batchId} not found`);
  return batch;
};

export const counters = (b: Batch): Record<string, number | string> => ({
  status: b.status,
  total: b.total_jobs,
  pending: b.pending_jobs,
  processing: b.processing_jobs,
  completed: b.completed_jobs,
  failed: b.failed_jobs,
  cancelled: b.cancelled_jobs,
});

/** Asserts that `p` rejects with a `SecretaryError` of `code`. */
export const expectSecretaryError = async (p: Promise<unknown>, code: string): Promise<void> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected SecretaryError ${code}`).toBeInstanceOf(SecretaryError);
  expect((err as SecretaryError).code).toBe(code);
};

/** Records every event the store publishes until `stop()`. */
export const recordEvents = (store: JobStore): { events: StoreEvent[]; stop: () => void } => {
  const events: StoreEvent[] = [];
  const stop = store.subscribe((e) => {
    events.push(e);
  });
  return { events, stop };
};

/** Polls `check` until it holds (events may be published after the awaited call returns). */
export const eventually = async (
  check: () => boolean | Promise<boolean>,
  timeoutMs = 2000,
): Promise<boolean> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(5);
  }
};

/** Claims and finishes (`delivered`) outbox records until none is left; returns them in claim order. */
export const drainOutbox = async (store: JobStore, owner = 'sender'): Promise<OutboxRecord[]> => {
  const seen: OutboxRecord[] = [];
  for (let round = 0; round < 200; round += 1) {
    const got = await store.claimOutbox({ owner, limit: 100, leaseMs: 30_000 });
    if (got.length === 0) return seen;
    for (const r of got) {
      seen.push(r);
      await store.finishOutbox(r.event_id, owner, { outcome: 'delivered' });
    }
  }
  throw new Error('drainOutbox: outbox never emptied');
};

export const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Asserts that `iso` is an ISO instant with `Z` within [from - slack, to + slack] (ms). */
export const expectInstantBetween = (
  iso: string | null | undefined,
  from: number,
  to: number,
  slackMs = 2000,
): void => {
  expect(iso).toMatch(ISO_Z);
  const t = Date.parse(iso as string);
  expect(t).toBeGreaterThanOrEqual(from - slackMs);
  expect(t).toBeLessThanOrEqual(to + slackMs);
};
