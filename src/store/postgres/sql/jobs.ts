/**
 * Job and batch statements other than status transitions: inserts, delete, log and usage
 * writes, lease renewal, reads, retention and stats.
 */
import type { PgNames } from '../pg-names.js';
import { jobColumns } from '../rows.js';
import { BATCH_CHANGES, batchMoveCtes } from './batch.js';
import {
  ASYNC_COMMIT,
  NEW_EVENT_ID,
  NOW,
  OUTBOX_INSERT_COLUMNS,
  TERMINAL,
  appendCapped,
} from './fragments.js';

/**
 * Inserts the jobs of the JSON array $1 (see `jobInsertValue`) in array order.
 * - `ifAbsent`: an existing external_id inserts nothing (createJob's create-or-find).
 * - `moveBatches`: count the jobs into their batches (a batch created in the same call has its
 *   counters already).
 */
export const insertJobsSql = (
  n: PgNames,
  opts: { ifAbsent: boolean; moveBatches: boolean },
): string => `
WITH ins AS (
  INSERT INTO ${n.jobs} (job_id, job_type, status, parameters, webhook, created_at, updated_at, batch_id, user_id,
    access_control, external_id, priority, run_at, max_attempts)
  SELECT e.v->>'job_id', e.v->>'job_type', 'pending', e.v->'parameters', NULLIF(e.v->'webhook', 'null'::jsonb),
    ${NOW}, ${NOW}, e.v->>'batch_id', e.v->>'user_id', e.v->'access_control', e.v->>'external_id',
    (e.v->>'priority')::int, COALESCE((e.v->>'run_at')::timestamptz, ${NOW}), (e.v->>'max_attempts')::int
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, i)
  ORDER BY e.i
  ${opts.ifAbsent ? 'ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING' : ''}
  RETURNING ${jobColumns()}
)${
  opts.moveBatches
    ? `,
moves AS (SELECT batch_id, NULL::text AS from_s, 'pending'::text AS to_s FROM ins WHERE batch_id IS NOT NULL),
${batchMoveCtes(n)}`
    : ''
}
SELECT ins.*, ${opts.moveBatches ? BATCH_CHANGES : `'[]'::json AS batch_changes`}
FROM ins
ORDER BY ins.seq`;

/** $1 batch_id, $2 name, $3 status, $4 total, $5 user_id, $6 access_control, $7 webhook. */
export const insertBatchSql = (n: PgNames): string => `
WITH b AS (
  INSERT INTO ${n.batches} (batch_id, batch_name, status, total_jobs, pending_jobs, processing_jobs, completed_jobs,
    failed_jobs, cancelled_jobs, created_at, updated_at, completed_at, user_id, access_control, webhook)
  VALUES ($1, $2, $3, $4, $4, 0, 0, 0, 0, ${NOW}, ${NOW}, CASE WHEN $3 IN ${TERMINAL} THEN ${NOW} END,
    $5, $6::jsonb, $7::jsonb)
  RETURNING *
),
o AS (
  INSERT INTO ${n.outbox} ${OUTBOX_INSERT_COLUMNS}
  SELECT ${NEW_EVENT_ID}, 'batch:' || b.batch_id, NULL, b.batch_id, 'batch', jsonb_build_object('status', b.status),
    'pending', ${NOW}, ${NOW}
  FROM b WHERE b.status IN ${TERMINAL} AND b.webhook IS NOT NULL
  RETURNING batch_id
)
SELECT b.*, EXISTS (SELECT 1 FROM o) AS outboxed FROM b`;

/** $1 job_id. One row (the status before) unless the job is unknown; a running job stays. */
export const deleteJobSql = (n: PgNames): string => `
WITH prev AS (SELECT seq, job_id, status FROM ${n.jobs} WHERE job_id = $1 FOR UPDATE),
d AS (
  DELETE FROM ${n.jobs} j USING prev WHERE j.seq = prev.seq AND prev.status <> 'processing'
  RETURNING j.job_id, j.batch_id, j.status
),
od AS (DELETE FROM ${n.outbox} o USING d WHERE o.job_id = d.job_id RETURNING 1),
moves AS (SELECT batch_id, status AS from_s, NULL::text AS to_s FROM d WHERE batch_id IS NOT NULL),
${batchMoveCtes(n)}
SELECT prev.status, (SELECT count(*) FROM d)::int AS deleted, ${BATCH_CHANGES} FROM prev`;

/** $1 job_id, $2 token, $3 entries, $4 cap. */
export const appendLogFencedSql = (n: PgNames): string => `
UPDATE ${n.jobs} j SET logs = ${appendCapped('j.logs', '$3::jsonb', '$4::int')}
WHERE j.job_id = $1 AND j.lease_token = $2 AND j.status = 'processing'
RETURNING 1 AS ok, ${ASYNC_COMMIT}`;

/** $1 job_id, $2 entries, $3 cap. */
export const appendLogSql = (n: PgNames): string => `
UPDATE ${n.jobs} j SET logs = ${appendCapped('j.logs', '$2::jsonb', '$3::int')} WHERE j.job_id = $1
RETURNING 1 AS ok`;

/** $1 job_id, $2 token, $3 llm_info. */
export const setLlmInfoSql = (n: PgNames): string => `
UPDATE ${n.jobs} j SET llm_info = $3::jsonb
WHERE j.job_id = $1 AND j.lease_token = $2 AND j.status = 'processing'
RETURNING 1 AS ok, ${ASYNC_COMMIT}`;

export const getJobSql = (n: PgNames): string =>
  `SELECT ${jobColumns()} FROM ${n.jobs} WHERE job_id = $1`;
export const getJobByExternalIdSql = (n: PgNames): string =>
  `SELECT ${jobColumns()} FROM ${n.jobs} WHERE external_id = $1`;
export const getJobVersionSql = (n: PgNames): string =>
  `SELECT version FROM ${n.jobs} WHERE job_id = $1`;
export const getBatchSql = (n: PgNames): string => `SELECT * FROM ${n.batches} WHERE batch_id = $1`;

/** $1 cutoff, $2 limit: terminal jobs finished before the cutoff, with their outbox records. */
export const purgeJobsSql = (n: PgNames): string => `
WITH victims AS (
  SELECT seq FROM ${n.jobs} WHERE completed_at < $1 AND status IN ${TERMINAL}
  ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED
),
d AS (DELETE FROM ${n.jobs} j USING victims v WHERE j.seq = v.seq RETURNING j.job_id, j.parameters, j.results),
od AS (DELETE FROM ${n.outbox} o USING d WHERE o.job_id = d.job_id RETURNING 1)
SELECT d.job_id, d.parameters, d.results, (SELECT count(*) FROM od)::int AS outbox FROM d`;

/** $1 cutoff: terminal batches without jobs finished before the cutoff, with their outbox records. */
export const purgeRestSql = (n: PgNames): string => `
WITH bd AS (
  DELETE FROM ${n.batches} b WHERE b.status IN ${TERMINAL} AND b.completed_at < $1
    AND NOT EXISTS (SELECT 1 FROM ${n.jobs} j WHERE j.batch_id = b.batch_id)
  RETURNING b.batch_id
),
od AS (DELETE FROM ${n.outbox} o USING bd WHERE o.batch_id = bd.batch_id RETURNING 1)
SELECT (SELECT count(*) FROM bd)::int AS batches, (SELECT count(*) FROM od)::int AS outbox`;

export const statsSql = (n: PgNames): string => `
SELECT
  (SELECT coalesce(json_agg(json_build_object('job_type', job_type, 'status', status, 'count', c)
     ORDER BY job_type, status), '[]'::json)
   FROM (SELECT job_type, status, count(*)::int AS c FROM ${n.jobs} GROUP BY job_type, status) s) AS by_status,
  (SELECT count(*)::int FROM ${n.jobs} WHERE status = 'pending' AND run_at <= now()) AS ready,
  (SELECT count(*)::int FROM ${n.outbox} WHERE status IN ('pending', 'sending')) AS outbox_pending`;

/** $1 batch_id. A job's `total_cost` JSON null means unknown (an unpriced model). */
export const batchUsageSql = (n: PgNames): string => `
SELECT count(llm_info)::int AS jobs_with_usage,
  coalesce(sum((llm_info->>'requests_count')::bigint), 0)::float8 AS requests_count,
  coalesce(sum((llm_info->>'total_tokens')::bigint), 0)::float8 AS total_tokens,
  coalesce(sum((llm_info->>'total_duration')::float8), 0)::float8 AS total_duration,
  coalesce(sum((llm_info->>'total_cost')::float8), 0)::float8 AS cost,
  count(*) FILTER (WHERE jsonb_typeof(llm_info->'total_cost') = 'null')::int AS unpriced
FROM ${n.jobs} WHERE batch_id = $1`;
