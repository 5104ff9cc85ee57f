/**
 * Fenced worker writes and control transitions of the MongoDB store. Every transition is one
 * atomic single-document update whose filter is its precondition (the lease fence, or the
 * status and version read just before: compare-and-set), followed by its consequences in
 * one unit (see context.ts for the order without transactions).
 */
import type { Filter, UpdateFilter } from 'mongodb';
import { SecretaryError } from '../../core/errors.js';
import { COMPLETED_PROGRESS, type JobError, type JobProgress, type JobStatus, type LlmInfo, type LogEntry } from '../../core/job.js';
import type { CancelResult, DeleteResult, Lease, OutboxKind, RetryResult } from '../job-store.js';
import { normaliseLog, progressPercent } from '../store-shared.js';
import { docToJob, findDollarKey, logToDoc, type JobDoc, type OutboxIntent } from './documents.js';
import type { MongoContext, MongoUnit } from './context.js';
import { releaseSlot } from './claim.js';
import { CLEAR_LEASE, fence, pushCapped } from './queries.js';


const AFTER = { returnDocument: 'after' } as const;

const logDocs = (ctx: MongoContext, entries: LogEntry[]) => entries.map((e) => logToDoc(normaliseLog(e, ctx.limits)));

/** `$push` of log entries, capped to the newest `maxLogEntries`. */
const pushLogs = (ctx: MongoContext, entries: LogEntry[] | undefined): Record<string, unknown> =>
  entries?.length ? { logs: pushCapped(logDocs(ctx, entries), ctx.limits.maxLogEntries) } : {};

/**
 * The common tail of a transition: events, batch counters, outbox record. `hasWebhook` comes
 * from the document after the update; the intent (if any) was pushed by the update itself.
 */
export const settle = async (
  ctx: MongoContext,
  u: MongoUnit,
  d: JobDoc,
  from: JobStatus,
  now: Date,
  intent: OutboxIntent | null,
): Promise<void> => {
  ctx.emitJob(u, d);
  if (d.batch_id && from !== d.status) await ctx.moveBatch(u, d.batch_id, from, d.status, now);
  await ctx.recordOutbox(u, { job_id: d.job_id }, intent, d.webhook !== null && d.webhook !== undefined);
};

/** A fenced transition out of `processing` (complete, fail, release). */
const finish = async (
  ctx: MongoContext,
  lease: Lease,
  update: UpdateFilter<JobDoc>,
  kind: OutboxKind | null,
  now: Date,
): Promise<boolean> => {
  const doc = await ctx.unit(async (u) => {
    const intent = kind ? ctx.intent(kind, { status: kind }, now) : null;
    const d = await ctx.c.jobs.findOneAndUpdate(fence(lease.job_id, lease.lease_token), ctx.withIntent(u, update, intent), {
      ...ctx.opts(u),
      ...AFTER,
    });
    if (!d) return null;
    await settle(ctx, u, d, 'processing', now, intent);
    return d;
  });
  if (!doc) return false;
  await releaseSlot(ctx, doc.job_type, lease.lease_token);
  return true;
};

export const extendLeases = async (ctx: MongoContext, owner: string, leases: { job_id: string; lease_token: string }[], leaseMs: number): Promise<string[]> => {
  if (leases.length === 0) return [];
  const expires = new Date(Date.now() + leaseMs);
  const held = leases.map((l) => ({ ...fence(l.job_id, l.lease_token), lease_owner: owner }));
  await ctx.c.jobs.updateMany({ $or: held } as Filter<JobDoc>, { $set: { lease_expires_at: expires } });
  // Still fenced after the update → the update extended it (tokens are never reused).
  const still = await ctx.c.jobs.find({ $or: held } as Filter<JobDoc>, { projection: { job_id: 1 } }).toArray();
  const ok = new Set(still.map((d) => d.job_id));
  return leases.filter((l) => !ok.has(l.job_id)).map((l) => l.job_id);
};

/** Percent clamped to 0..100 and never below the stored percent of this attempt (one atomic pipeline update). */
export const updateProgress = async (ctx: MongoContext, lease: Lease, p: JobProgress): Promise<boolean> => {
  const now = new Date();
  const percent = progressPercent(p);
  // Pipeline update: strings go through $literal so a value like "$x" is never read as a field path.
  const pipeline = [
    {
      $set: {
        progress: {
          step: { $literal: String(p.step ?? '') },
          percent: { $max: [percent, { $ifNull: ['$progress.percent', 0] }] },
          message: { $literal: p.message ?? null },
        },
        updated_at: now,
        version: { $add: ['$version', 1] },
      },
    },
  ];
  return ctx.unit(async (u) => {
    const d = await ctx.c.jobs.findOneAndUpdate(fence(lease.job_id, lease.lease_token), pipeline, { ...ctx.opts(u), ...AFTER });
    if (!d) return false;
    ctx.emitJob(u, d);
    if (d.webhook) await ctx.insertOutbox(u, { job_id: d.job_id }, ctx.intent('progress', { progress: d.progress }, now));
    return true;
  });
};

/** Appends one entry (fenced when `lease` is given); does not bump `version` or emit. */
export const appendLog = async (ctx: MongoContext, lease: Lease | null, jobId: string, entry: LogEntry): Promise<boolean> => {
  const filter: Filter<JobDoc> = lease ? fence(jobId, lease.lease_token) : { job_id: jobId };
  const res = await ctx.c.jobs.updateOne(filter, { $push: pushLogs(ctx, [entry]) } as UpdateFilter<JobDoc>);
  return res.matchedCount === 1;
};

export const setLlmInfo = async (ctx: MongoContext, lease: Lease, info: LlmInfo): Promise<boolean> =>
  (await ctx.c.jobs.updateOne(fence(lease.job_id, lease.lease_token), { $set: { llm_info: info } })).matchedCount === 1;

export const complete = async (ctx: MongoContext, lease: Lease, results: Record<string, unknown>, logs?: LogEntry[]): Promise<boolean> => {
  const bad = findDollarKey(results, '/results');
  if (bad) throw new SecretaryError('INVALID_PARAMETERS', `keys starting with $ cannot be stored: ${bad}`, { details: [{ path: bad, problem: '$-prefixed key' }] });
  const now = new Date();
  const update = {
    $set: { status: 'completed', results: results ?? {}, progress: COMPLETED_PROGRESS, error: null, completed_at: now, updated_at: now, ...CLEAR_LEASE },
    $inc: { version: 1 },
    ...(logs?.length ? { $push: pushLogs(ctx, logs) } : {}),
  } as UpdateFilter<JobDoc>;
  return finish(ctx, lease, update, 'completed', now);
};

export const fail = async (ctx: MongoContext, lease: Lease, error: JobError, retryAt: string | null | undefined, logs?: LogEntry[]): Promise<boolean> => {
  const now = new Date();
  const retry = retryAt ? new Date(retryAt) : null;
  const set = retry
    ? { status: 'pending', error, run_at: Number.isNaN(retry.getTime()) ? now : retry, updated_at: now, ...CLEAR_LEASE }
    : { status: 'failed', error, completed_at: now, updated_at: now, ...CLEAR_LEASE };
  const update = { $set: set, $inc: { version: 1 }, ...(logs?.length ? { $push: pushLogs(ctx, logs) } : {}) } as UpdateFilter<JobDoc>;
  return finish(ctx, lease, update, retry ? null : 'failed', now);
};

/** Back to `pending` without counting the attempt (attempts − 1, never below 0: a pipeline update). */
export const release = async (ctx: MongoContext, lease: Lease, reason: string): Promise<boolean> => {
  const now = new Date();
  const warning = logToDoc(normaliseLog({ timestamp: now.toISOString(), level: 'warning', message: `released: ${reason}` }, ctx.limits));
  const keep = -Math.max(0, ctx.limits.maxLogEntries);
  const pipeline = [
    {
      $set: {
        status: 'pending',
        attempts: { $max: [{ $subtract: ['$attempts', 1] }, 0] },
        run_at: now,
        updated_at: now,
        lease_owner: null,
        lease_token: null,
        lease_expires_at: null,
        version: { $add: ['$version', 1] },
        logs:
          keep === 0
            ? { $literal: [] }
            : { $slice: [{ $concatArrays: [{ $ifNull: ['$logs', []] }, [{ $literal: warning }]] }, keep] },
      },
    },
  ];
  const doc = await ctx.unit(async (u) => {
    const d = await ctx.c.jobs.findOneAndUpdate(fence(lease.job_id, lease.lease_token), pipeline, { ...ctx.opts(u), ...AFTER });
    if (d) await settle(ctx, u, d, 'processing', now, null);
    return d;
  });
  if (!doc) return false;
  await releaseSlot(ctx, doc.job_type, lease.lease_token);
  return true;
};

/** Reads the job, then runs `write` as a compare-and-set on its `{status, version}`; retries on a lost race. */
const casLoop = async <T>(
  ctx: MongoContext,
  jobId: string,
  write: (before: JobDoc, cas: Filter<JobDoc>) => Promise<T | undefined>,
  onMissing: () => T,
): Promise<T> => {
  for (let round = 0; round < 20; round += 1) {
    const before = await ctx.c.jobs.findOne({ job_id: jobId });
    if (!before) return onMissing();
    const out = await write(before, { job_id: jobId, status: before.status, version: before.version });
    if (out !== undefined) return out;
  }
  throw new SecretaryError('CONFLICT', `job ${jobId} changed too often to update it; try again`);
};

export const cancel = (ctx: MongoContext, jobId: string, reason: string | undefined): Promise<CancelResult> =>
  casLoop<CancelResult>(
    ctx,
    jobId,
    async (before, cas) => {
      if (before.status !== 'pending' && before.status !== 'processing') return { outcome: 'already_terminal', job: docToJob(before) };
      const now = new Date();
      const error: JobError = { code: 'CANCELLED', message: reason ?? 'cancelled by request' };
      const after = await ctx.unit(async (u) => {
        const intent = ctx.intent('cancelled', { status: 'cancelled' }, now);
        const update = { $set: { status: 'cancelled', error, completed_at: now, updated_at: now, ...CLEAR_LEASE }, $inc: { version: 1 } } as UpdateFilter<JobDoc>;
        const d = await ctx.c.jobs.findOneAndUpdate(cas, ctx.withIntent(u, update, intent), { ...ctx.opts(u), ...AFTER });
        if (d) await settle(ctx, u, d, before.status, now, intent);
        return d;
      });
      if (!after) return undefined;
      if (before.status === 'processing') await releaseSlot(ctx, before.job_type, before.lease_token);
      return { outcome: 'cancelled', job: docToJob(after), was: before.status };
    },
    () => ({ outcome: 'not_found' }),
  );

export const retry = (ctx: MongoContext, jobId: string): Promise<RetryResult> =>
  casLoop<RetryResult>(
    ctx,
    jobId,
    async (before, cas) => {
      if (before.status !== 'failed' && before.status !== 'cancelled') return { outcome: 'not_retryable', job: docToJob(before) };
      const now = new Date();
      const after = await ctx.unit(async (u) => {
        const d = await ctx.c.jobs.findOneAndUpdate(
          cas,
          {
            $set: { status: 'pending', attempts: 0, error: null, results: null, progress: null, completed_at: null, processing_started_at: null, run_at: now, updated_at: now },
            $inc: { version: 1 },
          },
          { ...ctx.opts(u), ...AFTER },
        );
        if (d) await settle(ctx, u, d, before.status, now, null);
        return d;
      });
      return after ? { outcome: 'retried', job: docToJob(after) } : undefined;
    },
    () => ({ outcome: 'not_found' }),
  );

export const remove = (ctx: MongoContext, jobId: string): Promise<DeleteResult> =>
  casLoop<DeleteResult>(
    ctx,
    jobId,
    async (before, cas) => {
      if (before.status === 'processing') return 'running';
      const deleted = await ctx.unit(async (u) => {
        const res = await ctx.c.jobs.deleteOne(cas, ctx.opts(u));
        if (res.deletedCount !== 1) return false;
        await ctx.c.outbox.deleteMany({ job_id: jobId }, ctx.opts(u));
        if (before.batch_id) await ctx.moveBatch(u, before.batch_id, before.status, null, new Date());
        return true;
      });
      return deleted ? 'deleted' : undefined;
    },
    () => 'not_found',
  );
