/** Reads of the SQLite store: lists with filters and cursors, stats. */
import { isTerminal, type Batch, type Job, type JobStatus } from '../../core/job.js';
import type {
  BatchFilter,
  BatchUsage,
  JobFilter,
  Page,
  PageRequest,
  StoreStats,
} from '../job-store.js';
import { pageLimit } from '../job-store.js';
import {
  asArray,
  decodeCursor,
  encodeCursor,
  invalidCursor,
  singleStatus,
} from '../store-shared.js';
import type { SqliteContext } from './sqlite-context.js';
import { rowToBatch, rowToJob, type BatchRow, type JobRow } from './rows.js';

const cursorSeq = (cursor: string | null | undefined): number | null => {
  if (!cursor) return null;
  const parts = decodeCursor(cursor);
  const seq = parts?.[0];
  if (
    parts?.length !== 2 ||
    parts[1] !== 's' ||
    typeof seq !== 'number' ||
    !Number.isInteger(seq)
  ) {
    throw invalidCursor();
  }
  return seq;
};

const visibleTo = `(user_id = @visible_to OR visibility = 'public'
  OR EXISTS (SELECT 1 FROM json_each(access_control, '$.read_access') WHERE value = @visible_to))`;

/** Newest-first page of a table with the given equality filters, status list and ACL. */
const listPage = <R extends { seq: number }, T>(
  ctx: SqliteContext,
  table: 'jobs' | 'batches',
  f: { status?: string | string[]; visible_to?: string } & Record<string, unknown>,
  keys: readonly string[],
  page: PageRequest | undefined,
  map: (row: R) => T,
): Page<T> => {
  const limit = pageLimit(page);
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: limit + 1 };
  const statuses = asArray(f.status);
  const single = singleStatus(statuses);
  if (single) {
    where.push(`status = '${single}'`);
  } else if (statuses?.length) {
    where.push(`status IN (SELECT value FROM json_each(@statuses))`);
    params.statuses = JSON.stringify(statuses);
  }
  for (const key of keys) {
    if (f[key] !== undefined) {
      where.push(`${key} = @${key}`);
      params[key] = f[key];
    }
  }
  if (f.visible_to !== undefined) {
    where.push(visibleTo);
    params.visible_to = f.visible_to;
  }
  const after = cursorSeq(page?.cursor);
  if (after !== null) {
    where.push('seq < @after');
    params.after = after;
  }
  // processing jobs are few (bounded by the workers' concurrency) but can sit behind a long
  // pending backlog in key order: read them through the lease index and sort
  const from = table === 'jobs' && single === 'processing' ? `jobs INDEXED BY jobs_lease` : table;
  const sql = `SELECT * FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
  const rows = ctx.stmt(sql).all(params) as R[];
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(map);
  const last = rows[limit - 1];
  return { items, next_cursor: more && last ? encodeCursor([last.seq, 's']) : null };
};

export const listJobs = (ctx: SqliteContext, f: JobFilter, page?: PageRequest): Page<Job> =>
  listPage<JobRow, Job>(
    ctx,
    'jobs',
    { ...f },
    ['job_type', 'batch_id', 'user_id', 'external_id'],
    page,
    rowToJob,
  );

export const listBatches = (ctx: SqliteContext, f: BatchFilter, page?: PageRequest): Page<Batch> =>
  listPage<BatchRow, Batch>(ctx, 'batches', { ...f }, ['user_id'], page, rowToBatch);

export const stats = (ctx: SqliteContext): StoreStats => {
  const by = ctx
    .stmt(
      `SELECT job_type, status, count(*) AS count FROM jobs GROUP BY job_type, status ORDER BY job_type, status`,
    )
    .all() as StoreStats['by_status'];
  const ready = (
    ctx
      .stmt(`SELECT count(*) AS n FROM jobs WHERE status = 'pending' AND run_at <= ?`)
      .get(Date.now()) as { n: number }
  ).n;
  const outbox = (
    ctx.stmt(`SELECT count(*) AS n FROM outbox WHERE status IN ('pending', 'sending')`).get() as {
      n: number;
    }
  ).n;
  return { by_status: by, ready, outbox_pending: outbox };
};

const BATCH_USAGE_SQL = `SELECT count(llm_info) AS jobs_with_usage,
  coalesce(sum(json_extract(llm_info, '$.requests_count')), 0) AS requests_count,
  coalesce(sum(json_extract(llm_info, '$.total_tokens')), 0) AS total_tokens,
  coalesce(sum(json_extract(llm_info, '$.total_duration')), 0) AS total_duration,
  coalesce(sum(json_extract(llm_info, '$.total_cost')), 0) AS cost,
  coalesce(sum(json_type(llm_info, '$.total_cost') = 'null'), 0) AS unpriced
FROM jobs WHERE batch_id = ?`;

export const batchUsage = (ctx: SqliteContext, batchId: string): BatchUsage => {
  const r = ctx.stmt(BATCH_USAGE_SQL).get(batchId) as Omit<BatchUsage, 'total_cost'> & {
    cost: number;
    unpriced: number;
  };
  return {
    jobs_with_usage: r.jobs_with_usage,
    requests_count: r.requests_count,
    total_tokens: r.total_tokens,
    total_duration: r.total_duration,
    total_cost: r.unpriced > 0 ? null : Math.round(r.cost * 1e8) / 1e8,
  };
};

const PURGE_CHUNK = 500;
const PURGE_SCAN_SQL = `SELECT seq, status, created_at, completed_at FROM jobs WHERE seq > ? ORDER BY seq LIMIT ${PURGE_CHUNK}`;

/**
 * Up to `limit` terminal jobs finished before `cutoff`, oldest first, with what the caller needs
 * to remove their files. No index on `completed_at` (it would cost a page per commit on every
 * completion): the primary key is walked from the oldest job, and the walk stops at the first
 * job created at or after the cutoff, since no later job can have finished before it. Only the
 * old jobs that must stay (still open, or finished after the cutoff) are read again next time.
 */
export const purgeable = (
  ctx: SqliteContext,
  cutoff: number,
  limit: number,
): { job_id: string; parameters: string; results: string | null }[] => {
  const scan = ctx.rawStmt(PURGE_SCAN_SQL);
  const seqs: number[] = [];
  let after = 0;
  walk: while (seqs.length < limit) {
    const chunk = scan.all(after) as [number, JobStatus, number, number | null][];
    for (const [seq, status, createdAt, completedAt] of chunk) {
      if (createdAt >= cutoff) break walk;
      if (completedAt !== null && completedAt < cutoff && isTerminal(status)) {
        seqs.push(seq);
        if (seqs.length === limit) break walk;
      }
    }
    if (chunk.length < PURGE_CHUNK) break;
    after = chunk[chunk.length - 1]![0];
  }
  const read = ctx.stmt(`SELECT job_id, parameters, results FROM jobs WHERE seq = ?`);
  return seqs.map(
    (seq) => read.get(seq) as { job_id: string; parameters: string; results: string | null },
  );
};
