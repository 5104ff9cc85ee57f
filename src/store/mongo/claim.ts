/**
 * The claim of the MongoDB store, and the per-type slots behind cluster-wide caps.
 *
 * Claim: a loop of `findOneAndUpdate(pending ∧ run_at ≤ now ∧ job_type ∈ types, {$set
 * processing + lease, $inc attempts, version}, {sort: priority ↓, run_at ↑, seq ↑,
 * returnDocument: 'after'})`, up to `limit` times. Each call is atomic on its document, so
 * no job is handed to two claimers; a type leaves the `$in` list when its room is used up.
 *
 * Cluster-wide caps (`clusterLimits`): counting `processing` jobs and then claiming is racy
 * across processes, so every claim registers its lease token in the type's slot document
 * `{_id: 'type:<t>', holders: [{token, at}]}`:
 *   - capped type: BEFORE the claim, a conditional update `{_id, $expr: size(holders) < cap}`
 *     → `$push` the token. Only one of N concurrent claimers can take the last slot (the
 *     update is atomic on the slot document). If no job is found after all, the slot is
 *     handed back.
 *   - uncapped type: the token is pushed right AFTER the claim (the type is known only then),
 *     so capped claimers of the same type count these jobs too.
 *   - every exit from `processing` (complete, fail, release, cancel, reap) pulls the token.
 * The slot documents are a cache of "processing jobs per type"; `reconcileSlots` (repair.ts,
 * run by the reaper) drops tokens of jobs no longer processing (older than a grace period:
 * crashed claimers, lost releases) and adds tokens of processing jobs that miss one. Errors
 * always err on the safe side: a leaked token makes a cap smaller for a while, never larger.
 */
import type { ClaimedJob } from '../../core/job.js';
import { newLeaseToken } from '../../core/ids.js';
import type { ClaimRequest } from '../job-store.js';
import { docToClaimedJob, type JobDoc } from './documents.js';
import { isDuplicateKey, type MongoContext } from './context.js';
import { CLAIM_SORT, claimFilter, claimUpdate } from './queries.js';

export const slotId = (jobType: string): string => `type:${jobType}`;

/** Takes a slot of a capped type for `token`; false when `cap` slots are taken. */
export const acquireSlot = async (ctx: MongoContext, jobType: string, token: string, cap: number, now: Date): Promise<boolean> => {
  if (!(cap > 0)) return false;
  const filter = { _id: slotId(jobType), $expr: { $lt: [{ $size: { $ifNull: ['$holders', []] } }, cap] } };
  const take = { $push: { holders: { token, at: now } } };
  if ((await ctx.c.slots.updateOne(filter, take)).matchedCount === 1) return true;
  // The first claim of a type: create the slot document (without upsert on the conditional
  // update, which would try to insert a second document with the same _id when it is full).
  try {
    await ctx.c.slots.updateOne({ _id: slotId(jobType) }, { $setOnInsert: { holders: [] } }, { upsert: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  return (await ctx.c.slots.updateOne(filter, take)).matchedCount === 1;
};

/** Registers the token of a claim of an uncapped type (best effort; reconciled later). */
export const registerSlot = async (ctx: MongoContext, jobType: string, token: string, now: Date): Promise<void> => {
  try {
    await ctx.c.slots.updateOne({ _id: slotId(jobType) }, { $push: { holders: { token, at: now } } }, { upsert: true });
  } catch (err) {
    ctx.report(err, `mongo: register slot of ${jobType}`);
  }
};

/** Hands a slot back (idempotent: pulls by token). Best effort; reconciled later. */
export const releaseSlot = async (ctx: MongoContext, jobType: string, token: string | null | undefined): Promise<void> => {
  if (!token) return;
  try {
    await ctx.c.slots.updateOne({ _id: slotId(jobType) }, { $pull: { holders: { token } } });
  } catch (err) {
    ctx.report(err, `mongo: release slot of ${jobType}`);
  }
};

/** Free room per type: the caller's local room, at most `limit`. */
export const roomOf = (req: ClaimRequest): Map<string, number> => {
  const room = new Map<string, number>();
  for (const [type, r] of Object.entries(req.types)) {
    const n = Math.min(Math.floor(r), Math.floor(req.limit));
    if (n > 0) room.set(type, n);
  }
  return room;
};

export const claimJobs = async (ctx: MongoContext, req: ClaimRequest): Promise<ClaimedJob[]> => {
  if (!(req.limit > 0)) return [];
  const room = roomOf(req);
  const caps = req.clusterLimits ?? {};
  const full = new Set<string>();
  const claimed: ClaimedJob[] = [];
  // A claim lost to a concurrent claimer is retried; this bounds the retries of one call.
  let misses = 0;
  while (claimed.length < req.limit && misses <= req.limit + 3) {
    const now = new Date();
    const eligible = [...room.keys()].filter((t) => (room.get(t) ?? 0) > 0 && !full.has(t));
    if (eligible.length === 0) break;

    // With a capped type in play, look at the next job first to learn its type, so the slot
    // is taken before the claim and the global queue order is kept across types.
    let types = eligible;
    let capped: { type: string; cap: number } | null = null;
    if (eligible.some((t) => caps[t] !== undefined)) {
      const next = await ctx.c.jobs.findOne(claimFilter(eligible, now), { sort: CLAIM_SORT, projection: { job_type: 1 } });
      if (!next) break;
      types = [next.job_type];
      const cap = caps[next.job_type];
      if (cap !== undefined) capped = { type: next.job_type, cap };
    }

    const token = newLeaseToken();
    if (capped && !(await acquireSlot(ctx, capped.type, token, capped.cap, now))) {
      full.add(capped.type);
      continue;
    }

    let doc: JobDoc | null;
    try {
      doc = await ctx.unit(async (u) => {
        const d = await ctx.c.jobs.findOneAndUpdate(claimFilter(types, now), claimUpdate(req.owner, token, now, req.leaseMs), {
          ...ctx.opts(u),
          sort: CLAIM_SORT,
          returnDocument: 'after',
        });
        if (!d) return null;
        ctx.emitJob(u, d);
        if (d.batch_id) await ctx.moveBatch(u, d.batch_id, 'pending', 'processing', now);
        return d;
      });
    } catch (err) {
      if (capped) await releaseSlot(ctx, capped.type, token);
      throw err;
    }

    if (!doc) {
      if (capped) await releaseSlot(ctx, capped.type, token);
      if (types === eligible) break; // nothing claimable of any eligible type
      misses += 1; // the peeked job went to someone else: look again
      continue;
    }
    if (!capped) await registerSlot(ctx, doc.job_type, token, now);
    room.set(doc.job_type, (room.get(doc.job_type) ?? 1) - 1);
    claimed.push(docToClaimedJob(doc));
  }
  return claimed;
};
