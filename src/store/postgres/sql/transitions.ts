/**
 * Status transitions of one job (fenced worker writes, cancel, retry) and the lease reaper. Every
 * statement is built by `transitionSql`: the UPDATE that defines `u`, the batch counters and the
 * job's outbox record, in one statement (one round trip, one transaction).
 *
 * A fenced write matches `job_id`, `lease_token` AND `status = 'processing'`; when it matches
 * nothing, the statement changes nothing and returns no row.
 */
import { COMPLETED_PROGRESS } from '../../../core/job.js';
import type { PgNames } from '../pg-names.js';
import { changeColumns, jobColumns } from '../rows.js';
import { BATCH_CHANGES, batchMoveCtes } from './batch.js';
import {
  ASYNC_COMMIT,
  NOW,
  OUTBOX_INSERT_COLUMNS,
  TERMINAL,
  appendCapped,
  jobOutboxValues,
} from './fragments.js';

/** Which outbox record a transition writes for a job with a webhook. */
export type TransitionOutbox = 'none' | 'progress' | 'terminal';

interface TransitionSpec {
  /** CTEs that `update` reads (e.g. `prev`), each followed by a comma. */
  head?: string;
  /** `UPDATE … RETURNING`: change columns (or all job columns), `has_webhook` and `from_s`. */
  update: string;
  outbox: TransitionOutbox;
  /** Commit without waiting for the WAL flush (see `ASYNC_COMMIT`). */
  asyncCommit?: boolean;
}

const jobOutbox = (n: PgNames, outbox: TransitionOutbox): string => {
  if (outbox === 'progress') {
    return `INSERT INTO ${n.outbox} ${OUTBOX_INSERT_COLUMNS}
      SELECT ${jobOutboxValues('u.job_id', `'progress'`, `jsonb_build_object('progress', u.progress)`)}
      FROM u WHERE u.has_webhook RETURNING job_id`;
  }
  return `INSERT INTO ${n.outbox} ${OUTBOX_INSERT_COLUMNS}
    SELECT ${jobOutboxValues('u.job_id', 'u.status', `jsonb_build_object('status', u.status)`)}
    FROM u WHERE u.has_webhook AND u.status IN ${TERMINAL} RETURNING job_id`;
};

export const transitionSql = (n: PgNames, spec: TransitionSpec): string => {
  const outboxed = spec.outbox === 'none' ? 'false' : '(u.job_id IN (SELECT job_id FROM jout))';
  return `
WITH ${spec.head ?? ''}
u AS (${spec.update}),
moves AS (SELECT batch_id, from_s, status AS to_s FROM u WHERE batch_id IS NOT NULL AND from_s IS DISTINCT FROM status),
${batchMoveCtes(n)}${spec.outbox === 'none' ? '' : `,\njout AS (${jobOutbox(n, spec.outbox)})`}
SELECT u.*, ${BATCH_CHANGES}, ${outboxed} AS outboxed${spec.asyncCommit ? `, ${ASYNC_COMMIT}` : ''}
FROM u
ORDER BY u.job_id`;
};

export const CLEAR_LEASE = `lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL`;

export const COMPLETED_PROGRESS_JSON = JSON.stringify(COMPLETED_PROGRESS);

/** Locks the job (any status) so the transition knows the status it leaves. $1 job_id. */
const PREV = (n: PgNames): string =>
  `prev AS (SELECT seq, status FROM ${n.jobs} WHERE job_id = $1 FOR UPDATE),`;

const CONTROL_RETURNING = `RETURNING ${jobColumns('j')}, (j.webhook IS NOT NULL) AS has_webhook, prev.status AS from_s`;

/** $1 job_id, $2 error. No row when the job is unknown or terminal. */
export const cancelSql = (n: PgNames): string =>
  transitionSql(n, {
    head: PREV(n),
    update: `UPDATE ${n.jobs} j SET status = 'cancelled', error = $2::jsonb, completed_at = ${NOW},
      updated_at = ${NOW}, ${CLEAR_LEASE}, version = j.version + 1
    FROM prev WHERE j.seq = prev.seq AND prev.status IN ('pending', 'processing') ${CONTROL_RETURNING}`,
    outbox: 'terminal',
  });

/** $1 job_id. No row when the job is unknown or not failed/cancelled. */
export const retrySql = (n: PgNames): string =>
  transitionSql(n, {
    head: PREV(n),
    update: `UPDATE ${n.jobs} j SET status = 'pending', attempts = 0, error = NULL, results = NULL, progress = NULL,
      completed_at = NULL, processing_started_at = NULL, run_at = ${NOW}, updated_at = ${NOW},
      ${CLEAR_LEASE}, version = j.version + 1
    FROM prev WHERE j.seq = prev.seq AND prev.status IN ('failed', 'cancelled') ${CONTROL_RETURNING}`,
    outbox: 'none',
  });

/**
 * Every expired lease: back to `pending` while attempts remain, else `failed` with WORKER_LOST.
 * Rows a worker is writing right now are skipped (it still holds its lease); the next pass gets
 * them if they stay expired. $1 log timestamp (ISO), $2 log cap.
 */
export const reapSql = (n: PgNames): string => {
  const spent = 'j.attempts >= j.max_attempts';
  const message = `'lease expired (worker ' || COALESCE(j.lease_owner, 'unknown') || ' lost) on attempt ' || j.attempts
    || CASE WHEN ${spent} THEN '; no attempts left (' || j.max_attempts || ')' ELSE '' END`;
  return transitionSql(n, {
    head: `expired AS (
      SELECT seq FROM ${n.jobs} WHERE status = 'processing' AND lease_expires_at < now()
      ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED
    ),`,
    update: `UPDATE ${n.jobs} j SET
      status = CASE WHEN ${spent} THEN 'failed' ELSE 'pending' END,
      error = jsonb_build_object('code', 'WORKER_LOST', 'message', ${message},
        'details', jsonb_build_object('attempts', j.attempts, 'max_attempts', j.max_attempts, 'owner', j.lease_owner)),
      run_at = CASE WHEN ${spent} THEN j.run_at ELSE ${NOW} END,
      completed_at = CASE WHEN ${spent} THEN ${NOW} ELSE NULL END,
      updated_at = ${NOW}, ${CLEAR_LEASE}, version = j.version + 1,
      logs = ${appendCapped(
        'j.logs',
        `jsonb_build_array(jsonb_build_object('timestamp', $1::text, 'level', 'warning', 'message', ${message}))`,
        '$2::int',
      )}
    FROM expired WHERE j.seq = expired.seq
    RETURNING ${changeColumns('j')}, 'processing'::text AS from_s, j.seq`,
    outbox: 'terminal',
  });
};
