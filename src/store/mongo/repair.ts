/**
 * The lease reaper of the MongoDB store and the repairs it runs: what a crash between the
 * separate writes of a transition can leave behind without transactions (see context.ts).
 * Every repair is idempotent and safe to run from several processes at once.
 */
import type { Filter, UpdateFilter } from 'mongodb';
import type { JobError, JobStatus } from '../../core/job.js';
import { JOB_STATUSES } from '../../core/job.js';
import { counterOf, normaliseLog } from '../store-shared.js';
import { logToDoc, type BatchDoc, type JobDoc, type OutboxIntent } from './documents.js';
import type { MongoContext } from './context.js';
import { isDuplicateKey } from './context.js';
import { releaseSlot, slotId } from './claim.js';
import { settle } from './transitions.js';
import { CLEAR_LEASE, pushCapped } from './queries.js';

export interface ReapOutcome {
  requeued: string[];
  failed: string[];
  /** Batches of reaped jobs: recounted by the next repair once they are quiet. */
  batches: string[];
}

/** Expired leases → `pending` (attempts left) or `failed` with `WORKER_LOST`. */
export const reap = async (ctx: MongoContext, max = 1000): Promise<ReapOutcome> => {
  const now = new Date();
  const expired = await ctx.c.jobs
    .find(
      { status: 'processing', lease_expires_at: { $lt: now } },
      { projection: { job_id: 1, job_type: 1, attempts: 1, max_attempts: 1, lease_owner: 1, lease_token: 1 }, limit: max },
    )
    .toArray();
  const out: ReapOutcome = { requeued: [], failed: [], batches: [] };
  for (const j of expired) {
    const spent = j.attempts >= j.max_attempts;
    const message = `lease expired (worker ${j.lease_owner ?? 'unknown'} lost) on attempt ${j.attempts}`;
    const error: JobError = {
      code: 'WORKER_LOST',
      message: spent ? `${message}; no attempts left (${j.max_attempts})` : message,
      details: { attempts: j.attempts, max_attempts: j.max_attempts, owner: j.lease_owner },
    };
    const log = logToDoc(normaliseLog({ timestamp: now.toISOString(), level: 'warning', message: error.message }, ctx.limits));
    const set = spent
      ? { status: 'failed', error, completed_at: now, updated_at: now, ...CLEAR_LEASE }
      : { status: 'pending', error, run_at: now, completed_at: null, updated_at: now, ...CLEAR_LEASE };
    const d = await ctx.unit(async (u) => {
      const intent = spent ? ctx.intent('failed', { status: 'failed' }, now) : null;
      const update = {
        $set: set,
        $inc: { version: 1 },
        $push: { logs: pushCapped([log], ctx.limits.maxLogEntries) },
      } as UpdateFilter<JobDoc>;
      const fenceOfReaper: Filter<JobDoc> = {
        job_id: j.job_id,
        status: 'processing',
        lease_token: j.lease_token,
        lease_expires_at: { $lt: now },
      };
      const after = await ctx.c.jobs.findOneAndUpdate(fenceOfReaper, ctx.withIntent(u, update, intent), {
        ...ctx.opts(u),
        returnDocument: 'after',
      });
      if (after) await settle(ctx, u, after, 'processing', now, intent);
      return after;
    });
    if (!d) continue; // extended or finished meanwhile
    await releaseSlot(ctx, j.job_type, j.lease_token);
    (spent ? out.failed : out.requeued).push(j.job_id);
    if (d.batch_id && !out.batches.includes(d.batch_id)) out.batches.push(d.batch_id);
  }
  return out;
};

export type RecountOutcome = 'missing' | 'busy' | 'unchanged' | 'recounted';

/**
 * Recomputes a batch's counters from its jobs (one aggregation) and writes them with a
 * compare-and-set on the batch's `rev`. Exact, not approximate: the counters are read (`rev`)
 * before the aggregation; a counter `$inc` landing after the read fails the CAS; a job write
 * whose `$inc` has not landed yet is seen by the quiet check (a job of the batch updated in
 * the last `quietMs`: skip, try later). Assumes writers' clocks differ by less than `quietMs`.
 */
export const recountBatch = async (ctx: MongoContext, batchId: string, quietMs = 10_000): Promise<RecountOutcome> => {
  const b = await ctx.c.batches.findOne({ batch_id: batchId });
  if (!b) return 'missing';
  const rows = await ctx.c.jobs
    .aggregate<{ _id: JobStatus; n: number }>([{ $match: { batch_id: batchId } }, { $group: { _id: '$status', n: { $sum: 1 } } }])
    .toArray();
  const now = new Date();
  if (await ctx.c.jobs.findOne({ batch_id: batchId, updated_at: { $gt: new Date(now.getTime() - quietMs) } }, { projection: { _id: 1 } })) {
    return 'busy';
  }
  const counts: Record<string, number> = { total_jobs: 0 };
  for (const s of JOB_STATUSES) counts[counterOf(s)] = 0;
  for (const r of rows) {
    if (!(JOB_STATUSES as readonly string[]).includes(r._id)) continue;
    counts[counterOf(r._id)] = r.n;
    counts.total_jobs = (counts.total_jobs ?? 0) + r.n;
  }
  const rev = b.rev ?? null;
  const same = Object.entries(counts).every(([k, v]) => (b as unknown as Record<string, unknown>)[k] === v);
  if (same) {
    await ctx.c.batches.updateOne({ batch_id: batchId, rev } as Filter<BatchDoc>, { $set: { checked_rev: rev } } as UpdateFilter<BatchDoc>);
    await ctx.unit((u) => ctx.settleBatch(u, b, now));
    return 'unchanged';
  }
  const next = (rev ?? 0) + 1;
  const d = await ctx.c.batches.findOneAndUpdate(
    { batch_id: batchId, rev } as Filter<BatchDoc>,
    { $set: { ...counts, rev: next, checked_rev: next, updated_at: now } } as UpdateFilter<BatchDoc>,
    { returnDocument: 'after' },
  );
  if (!d) return 'busy';
  await ctx.unit((u) => ctx.settleBatch(u, d, now));
  return 'recounted';
};

/** Non-terminal batches, quiet for `quietMs`, whose counters changed since their last check. */
export const batchesToCheck = async (ctx: MongoContext, quietMs: number, max = 50): Promise<string[]> => {
  const docs = await ctx.c.batches
    .find(
      {
        status: { $in: ['pending', 'processing'] },
        updated_at: { $lt: new Date(Date.now() - quietMs) },
        $expr: { $ne: [{ $ifNull: ['$checked_rev', -1] }, { $ifNull: ['$rev', 0] }] },
      } as Filter<BatchDoc>,
      { projection: { batch_id: 1 }, limit: max },
    )
    .toArray();
  return docs.map((d) => d.batch_id);
};

/** Inserts outbox intents older than `graceMs` whose insert did not happen (idempotent), then pulls them. */
export const repairIntents = async (ctx: MongoContext, graceMs: number, max = 200): Promise<number> => {
  const cutoff = new Date(Date.now() - graceMs);
  const filter = { 'outbox_intents.created_at': { $exists: true, $lt: cutoff } };
  const projection = { job_id: 1, batch_id: 1, webhook: 1, outbox_intents: 1 };
  let repaired = 0;
  const replay = async (target: { job_id: string } | { batch_id: string }, webhook: unknown, intents: OutboxIntent[] | undefined) => {
    for (const i of intents ?? []) {
      if (!(i.created_at < cutoff)) continue;
      // A stale progress record is not worth sending late; terminal and batch records are.
      const send = Boolean(webhook) && i.kind !== 'progress';
      try {
        await ctx.unit((u) => ctx.recordOutbox(u, target, i, send));
        repaired += 1;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
  };
  for (const d of await ctx.c.jobs.find(filter as Filter<JobDoc>, { projection, limit: max }).toArray()) {
    await replay({ job_id: d.job_id }, d.webhook, d.outbox_intents);
  }
  for (const d of await ctx.c.batches.find(filter as Filter<BatchDoc>, { projection, limit: max }).toArray()) {
    await replay({ batch_id: d.batch_id }, d.webhook, d.outbox_intents);
  }
  return repaired;
};

/**
 * Makes the slot documents match the processing jobs: drops tokens of jobs no longer
 * processing and adds tokens of processing jobs that have none, each only when older than
 * `graceMs` (so a claim or release in flight is never disturbed).
 */
export const reconcileSlots = async (ctx: MongoContext, graceMs: number): Promise<void> => {
  const cutoff = new Date(Date.now() - graceMs);
  const running = await ctx.c.jobs
    .find({ status: 'processing' }, { projection: { job_type: 1, lease_token: 1, processing_started_at: 1 } })
    .toArray();
  const live = new Map<string, Set<string>>();
  for (const j of running) {
    if (!j.lease_token) continue;
    const set = live.get(j.job_type) ?? new Set<string>();
    set.add(j.lease_token);
    live.set(j.job_type, set);
  }
  const slots = await ctx.c.slots.find({}).toArray();
  const held = new Map<string, Set<string>>();
  for (const s of slots) {
    const type = s._id.replace(/^type:/, '');
    const tokens = live.get(type) ?? new Set<string>();
    const stale = (s.holders ?? []).filter((h) => !tokens.has(h.token) && h.at < cutoff).map((h) => h.token);
    if (stale.length) await ctx.c.slots.updateOne({ _id: s._id }, { $pull: { holders: { token: { $in: stale } } } });
    held.set(type, new Set((s.holders ?? []).map((h) => h.token)));
  }
  const now = new Date();
  for (const j of running) {
    if (!j.lease_token || held.get(j.job_type)?.has(j.lease_token)) continue;
    if (!(j.processing_started_at && j.processing_started_at < cutoff)) continue;
    try {
      await ctx.c.slots.updateOne({ _id: slotId(j.job_type) }, { $setOnInsert: { holders: [] } }, { upsert: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    await ctx.c.slots.updateOne(
      { _id: slotId(j.job_type), 'holders.token': { $ne: j.lease_token } },
      { $push: { holders: { token: j.lease_token, at: now } } },
    );
  }
};
