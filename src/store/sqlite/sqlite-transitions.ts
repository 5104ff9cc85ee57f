/** Fenced worker writes and control transitions of the SQLite store (run inside a write tx). */
import {
  COMPLETED_PROGRESS,
  type JobError,
  type JobProgress,
  type JobStatus,
  type LlmInfo,
  type LogEntry,
} from '../../core/job.js';
import type { Lease, OutboxKind } from '../job-store.js';
import { capLogs, normaliseLog, progressPercent } from '../store-shared.js';
import type { SqliteContext } from './sqlite-context.js';
import { iso, rowToJob, type JobRow } from './rows.js';

/** Columns returned by every transition, enough for events, batches and the outbox. */
const RETURNING = `RETURNING job_id, job_type, batch_id, user_id, status, progress, version, updated_at,
  (webhook IS NOT NULL) AS has_webhook`;

interface ChangedRow {
  job_id: string;
  job_type: string;
  batch_id: string | null;
  user_id: string | null;
  status: JobStatus;
  progress: string | null;
  version: number;
  updated_at: number;
  has_webhook: number;
}

const FENCE = `job_id = @job_id AND lease_token = @token AND status = 'processing'`;
const CLEAR_LEASE = `lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL`;

const COMPLETED_PROGRESS_JSON = JSON.stringify(COMPLETED_PROGRESS);

/**
 * The two forms of one terminal write (see `terminalWrite`). SQL text is built once here, not
 * per call: statements are cached by their text, and a string built per call costs a fresh
 * concatenation and hash on every write (measured: ~10% of a no-op drain).
 */
interface TerminalSql {
  byFence: string;
  bySeq: string;
}
const terminalSql = (set: string): TerminalSql => ({
  byFence: `UPDATE jobs SET ${set}, ${CLEAR_LEASE}, version = version + 1 WHERE ${FENCE} ${RETURNING}`,
  bySeq: `UPDATE jobs SET ${set}, ${CLEAR_LEASE}, version = version + 1 WHERE seq = @seq AND lease_token = @token AND status = 'processing'`,
});
const COMPLETE_SQL = terminalSql(
  `status = 'completed', results = @results, progress = @progress, error = NULL, completed_at = @now, updated_at = @now`,
);
const FAIL_SQL = terminalSql(
  `status = 'failed', error = @error, completed_at = @now, updated_at = @now`,
);
const RETRY_SQL = terminalSql(
  `status = 'pending', error = @error, run_at = @retry, updated_at = @now`,
);
const RELEASE_SQL = terminalSql(
  `status = 'pending', attempts = max(attempts - 1, 0), run_at = @now, updated_at = @now`,
);
const EXTEND_SQL = `UPDATE jobs SET lease_expires_at = @expires WHERE ${FENCE} AND lease_owner = @owner`;
const PROGRESS_SQL = `UPDATE jobs SET progress = json_object('step', @step,
     'percent', max(@percent, coalesce(json_extract(progress, '$.percent'), 0)), 'message', @message),
     updated_at = @now, version = version + 1
   WHERE ${FENCE} ${RETURNING}`;
const appendLogSql = (
  where: string,
): string => `UPDATE jobs SET logs = CASE WHEN json_array_length(logs) >= @cap
     THEN json_insert(json_remove(logs, '$[0]'), '$[#]', json(@entry))
     ELSE json_insert(logs, '$[#]', json(@entry)) END
   WHERE ${where}`;
const APPEND_LOG_FENCED_SQL = appendLogSql(FENCE);
const APPEND_LOG_SQL = appendLogSql('job_id = @job_id');
const LLM_INFO_SQL = `UPDATE jobs SET llm_info = @info WHERE ${FENCE}`;

/** Publishes the change, moves the batch counter and writes the outbox record. */
const settle = (
  ctx: SqliteContext,
  row: ChangedRow,
  from: JobStatus,
  now: number,
  outbox: OutboxKind | null,
  parsedProgress?: JobProgress | null,
): void => {
  const progress =
    parsedProgress !== undefined
      ? parsedProgress
      : row.progress
        ? (JSON.parse(row.progress) as JobProgress)
        : null;
  ctx.emit({
    type: 'job',
    change: {
      job_id: row.job_id,
      job_type: row.job_type,
      batch_id: row.batch_id,
      user_id: row.user_id,
      status: row.status,
      progress,
      version: row.version,
      updated_at: iso(row.updated_at),
    },
  });
  if (row.status === 'pending') ctx.emit({ type: 'enqueued', job_types: [row.job_type] });
  if (row.batch_id && from !== row.status) ctx.moveBatch(row.batch_id, from, row.status, now);
  if (outbox && row.has_webhook) {
    ctx.insertOutbox(
      outbox,
      { job_id: row.job_id },
      outbox === 'progress' ? { progress } : { status: row.status },
      now,
    );
  }
};

/**
 * Terminal writes: for a lease this instance handed out, the row is found by its rowid and
 * nothing is read back (the held lease knows type, batch and webhook); otherwise the row is
 * found by job id and the needed columns come back with RETURNING. The fence is the same.
 */
const terminalWrite = (
  ctx: SqliteContext,
  lease: Lease,
  status: JobStatus,
  sql: TerminalSql,
  params: Record<string, unknown>,
  now: number,
): ChangedRow | null => {
  const held = ctx.held.get(lease.job_id);
  ctx.held.delete(lease.job_id);
  if (!held || held.token !== lease.lease_token) {
    return (ctx.stmt(sql.byFence).get(params) as ChangedRow | undefined) ?? null;
  }
  params.seq = held.seq;
  const changed = ctx.stmt(sql.bySeq).run(params).changes;
  if (changed === 0) return null;
  return {
    job_id: lease.job_id,
    job_type: held.job_type,
    batch_id: held.batch_id,
    user_id: held.user_id,
    status,
    progress: null,
    version: held.version + 1,
    updated_at: now,
    has_webhook: held.webhook ? 1 : 0,
  };
};

const appendLogs = (ctx: SqliteContext, jobId: string, entries: LogEntry[] | undefined): void => {
  if (!entries?.length) return;
  const row = ctx.stmt(`SELECT logs FROM jobs WHERE job_id = ?`).get(jobId) as
    { logs: string } | undefined;
  if (!row) return;
  const logs = capLogs(
    [...(JSON.parse(row.logs) as LogEntry[]), ...entries.map((e) => normaliseLog(e, ctx.limits))],
    ctx.limits,
  );
  ctx.stmt(`UPDATE jobs SET logs = ? WHERE job_id = ?`).run(JSON.stringify(logs), jobId);
};

export const extendLeases = (
  ctx: SqliteContext,
  owner: string,
  leases: Lease[],
  leaseMs: number,
): string[] => {
  const expires = Date.now() + leaseMs;
  const lost: string[] = [];
  const s = ctx.stmt(EXTEND_SQL);
  for (const l of leases) {
    if (s.run({ expires, job_id: l.job_id, token: l.lease_token, owner }).changes === 0)
      lost.push(l.job_id);
  }
  return lost;
};

export const updateProgress = (ctx: SqliteContext, lease: Lease, p: JobProgress): boolean => {
  const now = Date.now();
  const percent = progressPercent(p);
  const row = ctx.stmt(PROGRESS_SQL).get({
    step: String(p.step ?? ''),
    percent,
    message: p.message ?? null,
    now,
    job_id: lease.job_id,
    token: lease.lease_token,
  }) as ChangedRow | undefined;
  const held = ctx.held.get(lease.job_id);
  if (!row) {
    ctx.held.delete(lease.job_id);
    return false;
  }
  if (held) held.version = row.version;
  settle(ctx, row, 'processing', now, 'progress');
  return true;
};

export const appendLog = (
  ctx: SqliteContext,
  lease: Lease | null,
  jobId: string,
  entry: LogEntry,
): boolean => {
  const e = normaliseLog(entry, ctx.limits);
  const res = ctx.stmt(lease ? APPEND_LOG_FENCED_SQL : APPEND_LOG_SQL).run({
    cap: ctx.limits.maxLogEntries,
    entry: JSON.stringify(e),
    job_id: jobId,
    ...(lease ? { token: lease.lease_token } : {}),
  });
  return res.changes > 0;
};

export const setLlmInfo = (ctx: SqliteContext, lease: Lease, info: LlmInfo): boolean =>
  ctx
    .stmt(LLM_INFO_SQL)
    .run({ info: JSON.stringify(info), job_id: lease.job_id, token: lease.lease_token }).changes >
  0;

export const complete = (
  ctx: SqliteContext,
  lease: Lease,
  results: Record<string, unknown>,
  logs?: LogEntry[],
): boolean => {
  const now = Date.now();
  const row = terminalWrite(
    ctx,
    lease,
    'completed',
    COMPLETE_SQL,
    {
      results: JSON.stringify(results ?? {}),
      progress: COMPLETED_PROGRESS_JSON,
      now,
      job_id: lease.job_id,
      token: lease.lease_token,
    },
    now,
  );
  if (!row) return false;
  row.progress = COMPLETED_PROGRESS_JSON;
  appendLogs(ctx, lease.job_id, logs);
  settle(ctx, row, 'processing', now, 'completed', COMPLETED_PROGRESS);
  return true;
};

export const fail = (
  ctx: SqliteContext,
  lease: Lease,
  error: JobError,
  retryAt: string | null | undefined,
  logs?: LogEntry[],
): boolean => {
  const now = Date.now();
  const retry = retryAt ? Date.parse(retryAt) : null;
  const row = terminalWrite(
    ctx,
    lease,
    retry === null ? 'failed' : 'pending',
    retry === null ? FAIL_SQL : RETRY_SQL,
    {
      error: JSON.stringify(error),
      now,
      ...(retry === null ? {} : { retry: Number.isNaN(retry) ? now : retry }),
      job_id: lease.job_id,
      token: lease.lease_token,
    },
    now,
  );
  if (!row) return false;
  appendLogs(ctx, lease.job_id, logs);
  settle(ctx, row, 'processing', now, retry === null ? 'failed' : null);
  return true;
};

export const release = (ctx: SqliteContext, lease: Lease, reason: string): boolean => {
  const now = Date.now();
  const row = terminalWrite(
    ctx,
    lease,
    'pending',
    RELEASE_SQL,
    { now, job_id: lease.job_id, token: lease.lease_token },
    now,
  );
  if (!row) return false;
  appendLog(ctx, null, lease.job_id, {
    timestamp: new Date(now).toISOString(),
    level: 'warning',
    message: `released: ${reason}`,
  });
  settle(ctx, row, 'processing', now, null);
  return true;
};

export const cancel = (ctx: SqliteContext, jobId: string, reason: string | undefined) => {
  const now = Date.now();
  const before = ctx.stmt(`SELECT * FROM jobs WHERE job_id = ?`).get(jobId) as JobRow | undefined;
  if (!before) return { outcome: 'not_found' as const };
  if (before.status !== 'pending' && before.status !== 'processing') {
    return { outcome: 'already_terminal' as const, job: rowToJob(before) };
  }
  ctx.held.delete(jobId);
  const error: JobError = { code: 'CANCELLED', message: reason ?? 'cancelled by request' };
  const row = ctx
    .stmt(
      `UPDATE jobs SET status = 'cancelled', error = @error, completed_at = @now, updated_at = @now,
         ${CLEAR_LEASE}, version = version + 1 WHERE job_id = @job_id ${RETURNING}`,
    )
    .get({ error: JSON.stringify(error), now, job_id: jobId }) as ChangedRow;
  settle(ctx, row, before.status as JobStatus, now, 'cancelled');
  const after = ctx.stmt(`SELECT * FROM jobs WHERE job_id = ?`).get(jobId) as JobRow;
  return { outcome: 'cancelled' as const, job: rowToJob(after), was: before.status as JobStatus };
};

export const retry = (ctx: SqliteContext, jobId: string) => {
  const now = Date.now();
  const before = ctx.stmt(`SELECT * FROM jobs WHERE job_id = ?`).get(jobId) as JobRow | undefined;
  if (!before) return { outcome: 'not_found' as const };
  if (before.status !== 'failed' && before.status !== 'cancelled') {
    return { outcome: 'not_retryable' as const, job: rowToJob(before) };
  }
  const row = ctx
    .stmt(
      `UPDATE jobs SET status = 'pending', attempts = 0, error = NULL, results = NULL, progress = NULL,
         completed_at = NULL, processing_started_at = NULL, run_at = @now, updated_at = @now,
         version = version + 1 WHERE job_id = @job_id ${RETURNING}`,
    )
    .get({ now, job_id: jobId }) as ChangedRow;
  settle(ctx, row, before.status as JobStatus, now, null);
  const after = ctx.stmt(`SELECT * FROM jobs WHERE job_id = ?`).get(jobId) as JobRow;
  return { outcome: 'retried' as const, job: rowToJob(after) };
};

export const remove = (ctx: SqliteContext, jobId: string): 'deleted' | 'not_found' | 'running' => {
  const row = ctx.stmt(`SELECT status, batch_id FROM jobs WHERE job_id = ?`).get(jobId) as
    { status: JobStatus; batch_id: string | null } | undefined;
  if (!row) return 'not_found';
  if (row.status === 'processing') return 'running';
  ctx.stmt(`DELETE FROM outbox WHERE job_id = ?`).run(jobId);
  ctx.stmt(`DELETE FROM jobs WHERE job_id = ?`).run(jobId);
  if (row.batch_id) ctx.moveBatch(row.batch_id, row.status, null, Date.now());
  return 'deleted';
};

export const reap = (ctx: SqliteContext): { requeued: string[]; failed: string[] } => {
  const now = Date.now();
  const expired = ctx
    .stmt(
      `SELECT job_id, attempts, max_attempts, lease_owner FROM jobs INDEXED BY jobs_lease
       WHERE status = 'processing' AND lease_expires_at < ?`,
    )
    .all(now) as {
    job_id: string;
    attempts: number;
    max_attempts: number;
    lease_owner: string | null;
  }[];
  const requeued: string[] = [];
  const failed: string[] = [];
  for (const j of expired) {
    const message = `lease expired (worker ${j.lease_owner ?? 'unknown'} lost) on attempt ${j.attempts}`;
    const spent = j.attempts >= j.max_attempts;
    const error: JobError = {
      code: 'WORKER_LOST',
      message: spent ? `${message}; no attempts left (${j.max_attempts})` : message,
      details: { attempts: j.attempts, max_attempts: j.max_attempts, owner: j.lease_owner },
    };
    const row = ctx
      .stmt(
        `UPDATE jobs SET status = @status, error = @error, run_at = CASE WHEN @status = 'pending' THEN @now ELSE run_at END,
           completed_at = CASE WHEN @status = 'failed' THEN @now ELSE NULL END, updated_at = @now,
           ${CLEAR_LEASE}, version = version + 1
         WHERE job_id = @job_id AND status = 'processing' ${RETURNING}`,
      )
      .get({
        status: spent ? 'failed' : 'pending',
        error: JSON.stringify(error),
        now,
        job_id: j.job_id,
      }) as ChangedRow | undefined;
    if (!row) continue;
    appendLog(ctx, null, j.job_id, {
      timestamp: new Date(now).toISOString(),
      level: 'warning',
      message: error.message,
    });
    settle(ctx, row, 'processing', now, spent ? 'failed' : null);
    (spent ? failed : requeued).push(j.job_id);
  }
  return { requeued, failed };
};
