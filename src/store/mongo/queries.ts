/**
 * Pure builders for the MongoDB store's filters, sorts and updates (no I/O), so the shapes
 * that decide correctness (claim filter and order, fences, list filters, cursors, counter
 * moves) can be unit-tested without a server.
 */
import type { Filter, Sort, UpdateFilter } from 'mongodb';
import type { JobStatus } from '../../core/job.js';
import type { BatchFilter, JobFilter } from '../job-store.js';
import { asArray, counterOf, decodeCursor, encodeCursor, invalidCursor } from '../store-shared.js';
import type { BatchDoc, JobDoc, OutboxDoc } from './documents.js';

/** Queue order: priority DESC, run_at ASC, then creation order. Matches the `jobs_claim` index. */
export const CLAIM_SORT = { priority: -1, run_at: 1, seq: 1 } as const satisfies Sort;

/** Lists: newest first. */
export const LIST_SORT = { seq: -1 } as const satisfies Sort;

/** Claimable jobs of the given types (the fence of the claim's `findOneAndUpdate`). */
export const claimFilter = (types: string[], now: Date): Filter<JobDoc> => ({
  status: 'pending',
  run_at: { $lte: now },
  job_type: types.length === 1 ? types[0]! : { $in: types },
});

/** The update that turns a pending job into a claimed one (one lease token per job). */
export const claimUpdate = (owner: string, token: string, now: Date, leaseMs: number): UpdateFilter<JobDoc> => ({
  $set: {
    status: 'processing',
    lease_owner: owner,
    lease_token: token,
    lease_expires_at: new Date(now.getTime() + leaseMs),
    processing_started_at: now,
    progress: null,
    updated_at: now,
  },
  $inc: { attempts: 1, version: 1 },
});

/** A worker's fence: this job, this lease, still running. */
export const fence = (jobId: string, token: string): Filter<JobDoc> => ({
  job_id: jobId,
  lease_token: token,
  status: 'processing',
});

export const CLEAR_LEASE = { lease_owner: null, lease_token: null, lease_expires_at: null } as const;

/** `$inc` for moving `n` jobs of a batch between status counters (null: created / deleted). */
export const counterMove = (from: JobStatus | null, to: JobStatus | null, n = 1): Record<string, number> => {
  const inc: Record<string, number> = { rev: 1 };
  if (from === to) return inc;
  if (from) inc[counterOf(from)] = -n;
  else inc.total_jobs = n;
  if (to) inc[counterOf(to)] = (inc[counterOf(to)] ?? 0) + n;
  else inc.total_jobs = (inc.total_jobs ?? 0) - n;
  return inc;
};

/** `$push` of log entries keeping only the newest `max` (`$slice` negative keeps the tail). */
export const pushCapped = <T>(items: T[], max: number): { $each: T[]; $slice: number } => ({
  $each: items,
  $slice: -Math.max(0, Math.trunc(max)),
});

/** The job filter with the external id matched through the partial unique index. */
export const externalIdMatch = (id: string): Filter<JobDoc> => ({ external_id: { $eq: id, $type: 'string' } });

const visibleTo = (user: string): Filter<JobDoc> | Filter<BatchDoc> => ({
  $or: [{ user_id: user }, { 'access_control.read_access': user }, { 'access_control.visibility': 'public' }],
});

// ---------------------------------------------------------------- list cursors

const CURSOR_TAG = 'mseq';

export const encodeListCursor = (seq: number): string => encodeCursor([seq, CURSOR_TAG]);

/** The `seq` a cursor points after; throws INVALID_PARAMETERS for anything this store did not produce. */
export const decodeListCursor = (cursor: string | null | undefined): number | null => {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const parts = decodeCursor(cursor);
  const seq = parts?.[0];
  if (parts?.length !== 2 || parts[1] !== CURSOR_TAG || typeof seq !== 'number' || !Number.isSafeInteger(seq)) {
    throw invalidCursor();
  }
  return seq;
};

export const jobListFilter = (f: JobFilter, afterSeq: number | null): Filter<JobDoc> => {
  const q: Filter<JobDoc> = {};
  const and: Filter<JobDoc>[] = [];
  const statuses = asArray(f.status);
  if (statuses?.length) q.status = statuses.length === 1 ? statuses[0]! : { $in: statuses };
  if (f.job_type !== undefined) q.job_type = f.job_type;
  if (f.batch_id !== undefined) q.batch_id = f.batch_id;
  if (f.user_id !== undefined) q.user_id = f.user_id;
  if (f.external_id !== undefined) and.push(externalIdMatch(f.external_id));
  if (f.visible_to !== undefined) and.push(visibleTo(f.visible_to) as Filter<JobDoc>);
  if (afterSeq !== null) q.seq = { $lt: afterSeq };
  if (and.length) q.$and = and;
  return q;
};

export const batchListFilter = (f: BatchFilter, afterSeq: number | null): Filter<BatchDoc> => {
  const q: Filter<BatchDoc> = {};
  const statuses = asArray(f.status);
  if (statuses?.length) q.status = statuses.length === 1 ? statuses[0]! : { $in: statuses };
  if (f.user_id !== undefined) q.user_id = f.user_id;
  if (f.visible_to !== undefined) q.$and = [visibleTo(f.visible_to) as Filter<BatchDoc>];
  if (afterSeq !== null) q.seq = { $lt: afterSeq };
  return q;
};

/** Fetches `limit + 1` rows; returns the page and the cursor of its last row when more exist. */
export const pageOf = <D extends { seq: number }, T>(
  rows: D[],
  limit: number,
  map: (d: D) => T,
): { items: T[]; next_cursor: string | null } => {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { items: page.map(map), next_cursor: more && last ? encodeListCursor(last.seq) : null };
};

// ---------------------------------------------------------------- outbox

/**
 * Per target, the oldest unfinished record with the number of unfinished records behind it;
 * keeps the heads that may be sent now: pending and due, or sending with an expired lease.
 */
export const outboxHeadsPipeline = (now: Date, limit: number): object[] => [
  { $match: { status: { $in: ['pending', 'sending'] } } },
  { $sort: { target: 1, seq: 1 } },
  {
    $group: {
      _id: '$target',
      head: { $first: '$$ROOT' },
      waiting: { $sum: { $cond: [{ $eq: ['$status', 'pending'] }, 1, 0] } },
    },
  },
  {
    $match: {
      $or: [
        { 'head.status': 'pending', 'head.next_attempt_at': { $lte: now } },
        { 'head.status': 'sending', 'head.lease_expires_at': { $lt: now } },
      ],
    },
  },
  { $sort: { 'head.next_attempt_at': 1, 'head.seq': 1 } },
  { $limit: Math.max(1, Math.trunc(limit)) },
];

/** The compare-and-set that marks one head as being sent (fails if another claimer was first). */
export const outboxClaimFilter = (head: OutboxDoc, now: Date): Filter<OutboxDoc> =>
  head.status === 'pending'
    ? { event_id: head.event_id, status: 'pending', attempts: head.attempts, next_attempt_at: { $lte: now } }
    : { event_id: head.event_id, status: 'sending', attempts: head.attempts, lease_expires_at: { $lt: now } };
