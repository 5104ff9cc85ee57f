/**
 * Multi-row forms of the fenced worker writes, for group commit (`pg-group.ts`): one statement
 * applies the writes of many jobs, each row fenced by its own lease token, and returns the
 * ordinal (`i`, 1-based) of every write that matched, so each caller gets its own answer.
 *
 * The inputs arrive as parallel arrays (`unnest(...) WITH ORDINALITY`), which the planner
 * estimates small: the join to `jobs` stays a nested loop on the `job_id` index, also in a
 * generic (cached) plan.
 */
import type { PgNames } from '../pg-names.js';
import { changeColumns } from '../rows.js';
import { ASYNC_COMMIT, NOW, appendCapped, opaque } from './fragments.js';
import { CLEAR_LEASE, COMPLETED_PROGRESS_JSON, transitionSql } from './transitions.js';

/**
 * The fence of a grouped write. `status` is compared with a subquery so that the planner cannot
 * match the statement to the partial index on processing jobs: from stale statistics that index
 * can look tiny, and a plan driven by it scans every processing job per group. The rows are
 * always found by the unique `job_id` index instead.
 */
/** `unnest` of array parameters the planner cannot look into (see `opaque`): generic plans stay. */
const unnestOpaque = (...params: string[]): string => `unnest(${params.map(opaque).join(', ')})`;

const FENCE = `j.job_id = v.job_id AND j.lease_token = v.token AND j.status = (SELECT 'processing'::text)`;

/** The kinds of worker finish a `finishMany` row carries. */
export type FinishKind = 'complete' | 'fail' | 'retry' | 'release';

/**
 * complete / fail / fail with retry / release, in one statement.
 * $1 job ids, $2 tokens, $3 kinds, $4 results (JSON text), $5 errors (JSON text), $6 logs to
 * append (JSON arrays), $7 retry instants (NULL: now), $8 log cap.
 */
export const finishManySql = (n: PgNames): string =>
  transitionSql(n, {
    head: `v AS (
      SELECT * FROM ${unnestOpaque('$1::text[]', '$2::text[]', '$3::text[]', '$4::text[]', '$5::text[]', '$6::text[]', '$7::timestamptz[]')}
        WITH ORDINALITY AS v(job_id, token, kind, results, error, logs, retry_at, i)
    ),`,
    update: `UPDATE ${n.jobs} j SET
      status = CASE v.kind WHEN 'complete' THEN 'completed' WHEN 'fail' THEN 'failed' ELSE 'pending' END,
      results = CASE WHEN v.kind = 'complete' THEN v.results::jsonb ELSE j.results END,
      progress = CASE WHEN v.kind = 'complete' THEN '${COMPLETED_PROGRESS_JSON}'::jsonb ELSE j.progress END,
      error = CASE v.kind WHEN 'complete' THEN NULL WHEN 'release' THEN j.error ELSE v.error::jsonb END,
      completed_at = CASE WHEN v.kind IN ('complete', 'fail') THEN ${NOW} ELSE j.completed_at END,
      run_at = CASE v.kind WHEN 'retry' THEN COALESCE(v.retry_at, ${NOW}) WHEN 'release' THEN ${NOW} ELSE j.run_at END,
      attempts = CASE WHEN v.kind = 'release' THEN GREATEST(j.attempts - 1, 0) ELSE j.attempts END,
      updated_at = ${NOW}, ${CLEAR_LEASE}, version = j.version + 1,
      logs = ${appendCapped('j.logs', 'v.logs::jsonb', '$8::int')}
    FROM v WHERE ${FENCE}
    RETURNING ${changeColumns('j')}, 'processing'::text AS from_s, v.i`,
    outbox: 'terminal',
  });

/** $1 job ids, $2 tokens, $3 steps, $4 percents (0..100), $5 messages. Commits asynchronously. */
export const progressManySql = (n: PgNames): string =>
  transitionSql(n, {
    head: `v AS (
      SELECT * FROM ${unnestOpaque('$1::text[]', '$2::text[]', '$3::text[]', '$4::int[]', '$5::text[]')}
        WITH ORDINALITY AS v(job_id, token, step, percent, message, i)
    ),`,
    update: `UPDATE ${n.jobs} j SET
      progress = jsonb_build_object('step', v.step,
        'percent', GREATEST(v.percent::numeric, COALESCE((j.progress->>'percent')::numeric, 0)), 'message', v.message),
      version = j.version + 1, updated_at = ${NOW}
    FROM v WHERE ${FENCE}
    RETURNING ${changeColumns('j')}, 'processing'::text AS from_s, v.i`,
    outbox: 'progress',
    asyncCommit: true,
  });

/**
 * Lease renewals of several calls (owners) at once. $1 job ids, $2 tokens, $3 owners, $4 lease
 * lengths (ms). Returns the renewed (job_id, token, owner); a lease named by two calls is
 * renewed once and reported to both. Commits asynchronously.
 */
export const extendManySql = (n: PgNames): string => `
UPDATE ${n.jobs} j SET lease_expires_at = ${NOW} + v.lease_ms * interval '1 millisecond'
FROM ${unnestOpaque('$1::text[]', '$2::text[]', '$3::text[]', '$4::bigint[]')} AS v(job_id, token, owner, lease_ms)
WHERE ${FENCE} AND j.lease_owner = v.owner
RETURNING j.job_id, j.lease_token AS token, j.lease_owner AS owner, ${ASYNC_COMMIT}`;
