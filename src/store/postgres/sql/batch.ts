/**
 * Batch counters in SQL. A statement that changes jobs defines a CTE `moves (batch_id, from_s,
 * to_s)` (one row per job that changed status; `from_s` NULL for a created job, `to_s` NULL for a
 * deleted one) and appends `batchMoveCtes`, which in the same statement:
 *
 * 1. sums the moves per batch (`bdelta`),
 * 2. locks the batch rows in batch_id order (`bprev`, so concurrent statements cannot deadlock)
 *    and reads their status before the change,
 * 3. moves the counters and re-derives status and `completed_at` (`bupd`),
 * 4. writes the `batch` outbox record when a batch with a webhook enters a terminal state (`bout`),
 * 5. lists the batches whose status changed (`bchanged`); `BATCH_CHANGES` hands them to the caller,
 *    which publishes the `batch` events.
 */
import type { PgNames } from '../pg-names.js';
import { NEW_EVENT_ID, NOW, OUTBOX_INSERT_COLUMNS, TERMINAL } from './fragments.js';

const COUNTERS = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;

const delta = (s: string): string =>
  `(count(*) FILTER (WHERE to_s = '${s}') - count(*) FILTER (WHERE from_s = '${s}'))::int AS d_${s}`;

export const batchMoveCtes = (n: PgNames): string => {
  const status = `${n.batchStatus}(b.total_jobs + d.d_total, ${COUNTERS.map((s) => `b.${s}_jobs + d.d_${s}`).join(', ')})`;
  return `
bdelta AS (
  SELECT batch_id,
    (count(*) FILTER (WHERE from_s IS NULL) - count(*) FILTER (WHERE to_s IS NULL))::int AS d_total,
    ${COUNTERS.map(delta).join(',\n    ')}
  FROM moves WHERE batch_id IS NOT NULL GROUP BY batch_id
),
bprev AS (
  SELECT b.batch_id, b.status FROM ${n.batches} b WHERE b.batch_id = ANY(ARRAY(SELECT batch_id FROM bdelta))
  ORDER BY b.batch_id FOR UPDATE OF b
),
bupd AS (
  UPDATE ${n.batches} b SET
    total_jobs = b.total_jobs + d.d_total,
    ${COUNTERS.map((s) => `${s}_jobs = b.${s}_jobs + d.d_${s}`).join(',\n    ')},
    status = ${status},
    completed_at = CASE WHEN ${status} = b.status THEN b.completed_at
                        WHEN ${status} IN ${TERMINAL} THEN ${NOW} ELSE NULL END,
    updated_at = ${NOW}
  FROM bdelta d JOIN bprev p ON p.batch_id = d.batch_id
  WHERE b.batch_id = d.batch_id AND b.batch_id = ANY(ARRAY(SELECT batch_id FROM bprev))
  RETURNING b.batch_id, b.status, p.status AS prev_status, (b.webhook IS NOT NULL) AS has_webhook
),
bout AS (
  INSERT INTO ${n.outbox} ${OUTBOX_INSERT_COLUMNS}
  SELECT ${NEW_EVENT_ID}, 'batch:' || batch_id, NULL, batch_id, 'batch', jsonb_build_object('status', status),
    'pending', ${NOW}, ${NOW}
  FROM bupd WHERE has_webhook AND status IN ${TERMINAL} AND prev_status NOT IN ${TERMINAL}
  RETURNING batch_id
),
bchanged AS (
  SELECT u.batch_id, u.status, EXISTS (SELECT 1 FROM bout o WHERE o.batch_id = u.batch_id) AS w
  FROM bupd u WHERE u.status IS DISTINCT FROM u.prev_status
)`;
};

/** Output column: `[[batch_id, status, outboxed], …]` of the batches whose status changed. */
export const BATCH_CHANGES = `(SELECT coalesce(json_agg(json_build_array(batch_id, status, w)), '[]'::json) FROM bchanged) AS batch_changes`;

export type BatchChanges = [batchId: string, status: string, outboxed: boolean][];
