/**
 * The claim: one statement that picks pending jobs with `FOR UPDATE SKIP LOCKED` (so concurrent
 * claimers never wait for or share a row), marks them `processing` with a fresh lease token per
 * job and moves the batch counters, in one round trip.
 *
 * - `claimAny`: the fast path, when no type's room binds: one scan of `jobs_claim` in queue order.
 * - `claimPerType`: when a type's room (or its cluster-wide cap) is smaller than the limit: per
 *   type, the first `room` jobs by `jobs_claim_type`, merged in queue order. Cluster caps count the
 *   type's `processing` jobs in the statement; the caller holds `typeLockSql` locks (taken in an
 *   earlier statement of the same transaction, so this statement's snapshot sees every claim
 *   committed before the lock was granted).
 */
import type { PgNames } from '../pg-names.js';
import { quoteLiteral } from '../pg-names.js';
import { jobColumns } from '../rows.js';
import { BATCH_CHANGES, batchMoveCtes } from './batch.js';
import { ASYNC_COMMIT, NOW, opaque } from './fragments.js';

const QUEUE_ORDER = 'priority DESC, run_at, seq';

/**
 * Marks the `picked` rows as claimed; $owner, $leaseMs and $tokenBase are the statement's
 * parameters. The lease token is the claim call's random base (a UUID made by the caller) and
 * the job's `seq`: unique per job and per claim call, without a strong-random draw per row
 * (`gen_random_uuid()` was a tenth of the claim's server CPU).
 */
const claimTail = (n: PgNames, owner: string, leaseMs: string, tokenBase: string): string => `
u AS (
  UPDATE ${n.jobs} j SET status = 'processing', attempts = j.attempts + 1, lease_owner = ${owner},
    lease_token = ${tokenBase}::text || '.' || j.seq, lease_expires_at = ${NOW} + ${leaseMs} * interval '1 millisecond',
    processing_started_at = ${NOW}, updated_at = ${NOW}, progress = NULL, version = j.version + 1
  WHERE j.seq = ANY(ARRAY(SELECT seq FROM picked))
  RETURNING ${jobColumns('j')}
),
moves AS (SELECT batch_id, 'pending'::text AS from_s, 'processing'::text AS to_s FROM u WHERE batch_id IS NOT NULL),
${batchMoveCtes(n)}
SELECT u.*, ${BATCH_CHANGES}, ${ASYNC_COMMIT}
FROM u
ORDER BY u.priority DESC, u.run_at, u.seq`;

/** $1 types text[], $2 limit, $3 owner, $4 leaseMs, $5 token base. */
export const claimAnySql = (n: PgNames): string => `
WITH picked AS (
  SELECT seq FROM ${n.jobs}
  WHERE status = 'pending' AND run_at <= now() AND job_type = ANY(${opaque('$1::text[]')}::text[])
  ORDER BY ${QUEUE_ORDER}
  LIMIT ${opaque('$2::int')}
  FOR UPDATE SKIP LOCKED
),
${claimTail(n, '$3', '$4', '$5')}`;

/**
 * $1 types text[], $2 rooms int[], $3 caps int[] (NULL = uncapped), $4 limit, $5 owner,
 * $6 leaseMs, $7 token base.
 */
export const claimPerTypeSql = (n: PgNames): string => `
WITH room AS (
  SELECT t.job_type, LEAST(t.room, $4::int, CASE WHEN t.cap IS NULL THEN $4::int ELSE t.cap - (
      SELECT count(*) FROM ${n.jobs} p WHERE p.status = 'processing' AND p.job_type = t.job_type)::int END) AS room
  FROM unnest(${opaque('$1::text[]')}, ${opaque('$2::int[]')}, ${opaque('$3::int[]')}) AS t(job_type, room, cap)
),
candidates AS (
  SELECT c.seq, c.priority, c.run_at FROM room r CROSS JOIN LATERAL (
    SELECT seq, priority, run_at FROM ${n.jobs}
    WHERE status = 'pending' AND job_type = r.job_type AND run_at <= now()
    ORDER BY ${QUEUE_ORDER}
    LIMIT GREATEST(r.room, 0)
    FOR UPDATE SKIP LOCKED
  ) c
),
picked AS (SELECT seq FROM candidates ORDER BY ${QUEUE_ORDER} LIMIT ${opaque('$4::int')}),
${claimTail(n, '$5', '$6', '$7')}`;

/**
 * `BEGIN` plus the per-type advisory locks that make cluster caps race-free, as one simple-query
 * round trip (literals only: the type names are quoted). Sorted, so lockers never deadlock.
 */
export const beginWithTypeLocks = (n: PgNames, types: string[]): string => {
  const keys = [...types]
    .sort()
    .map(
      (t) => `pg_advisory_xact_lock(hashtext(${quoteLiteral(`secretary-type:${n.schema}:${t}`)}))`,
    );
  return `BEGIN; SELECT ${keys.join(', ')}`;
};
