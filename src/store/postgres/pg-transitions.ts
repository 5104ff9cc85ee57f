/**
 * Fenced worker writes and control transitions of the PostgreSQL store. Each is one statement
 * (see `sql/transitions.ts`); events are published in-process after it committed.
 */
import type { JobError, JobProgress, JobStatus, LlmInfo, LogEntry } from '../../core/job.js';
import type { CancelResult, DeleteResult, Lease, ReapResult, RetryResult } from '../job-store.js';
import { capLogs, normaliseLog } from '../store-shared.js';
import type { ChangedRow, PgContext } from './pg-context.js';
import { rowToJob, type JobRow } from './rows.js';
import type { BatchChanges } from './sql/batch.js';

type TransitionRow = ChangedRow & { batch_changes: BatchChanges };

/** Log entries as a JSON array parameter: normalised and capped like every backend does. */
const logsParam = (ctx: PgContext, entries: LogEntry[] | undefined): string =>
  JSON.stringify(
    entries?.length
      ? capLogs(
          entries.map((e) => normaliseLog(e, ctx.limits)),
          ctx.limits,
        )
      : [],
  );

const errorParam = (error: JobError): string =>
  JSON.stringify({
    code: error.code,
    message: error.message,
    ...(error.details !== undefined ? { details: error.details } : {}),
  });

/** Runs a transition statement; publishes its changes; returns its rows. */
const transition = async <R extends TransitionRow>(
  ctx: PgContext,
  key:
    'updateProgress' | 'complete' | 'fail' | 'failRetry' | 'release' | 'cancel' | 'retry' | 'reap',
  values: unknown[],
): Promise<R[]> => {
  const rows = await ctx.rows<R>(ctx.sql[key], values);
  if (rows.length) ctx.publishChanges(rows, rows[0]?.batch_changes);
  return rows;
};

export const updateProgress = async (
  ctx: PgContext,
  lease: Lease,
  p: JobProgress,
): Promise<boolean> => {
  const percent = Math.max(
    0,
    Math.min(100, Math.round(Number.isFinite(p.percent) ? p.percent : 0)),
  );
  const rows = await transition(ctx, 'updateProgress', [
    lease.job_id,
    lease.lease_token,
    String(p.step ?? ''),
    percent,
    p.message ?? null,
  ]);
  return rows.length > 0;
};

export const complete = async (
  ctx: PgContext,
  lease: Lease,
  results: Record<string, unknown>,
  logs?: LogEntry[],
): Promise<boolean> => {
  const rows = await transition(ctx, 'complete', [
    lease.job_id,
    lease.lease_token,
    JSON.stringify(results ?? {}),
    logsParam(ctx, logs),
    ctx.limits.maxLogEntries,
  ]);
  return rows.length > 0;
};

export const fail = async (
  ctx: PgContext,
  lease: Lease,
  error: JobError,
  retryAt: string | null | undefined,
  logs?: LogEntry[],
): Promise<boolean> => {
  const base = [
    lease.job_id,
    lease.lease_token,
    errorParam(error),
    logsParam(ctx, logs),
    ctx.limits.maxLogEntries,
  ];
  if (!retryAt) return (await transition(ctx, 'fail', base)).length > 0;
  const at = Date.parse(retryAt);
  const rows = await transition(ctx, 'failRetry', [
    ...base,
    Number.isNaN(at) ? null : new Date(at).toISOString(),
  ]);
  return rows.length > 0;
};

export const release = async (ctx: PgContext, lease: Lease, reason: string): Promise<boolean> => {
  const warning: LogEntry = {
    timestamp: new Date().toISOString(),
    level: 'warning',
    message: `released: ${reason}`,
  };
  const rows = await transition(ctx, 'release', [
    lease.job_id,
    lease.lease_token,
    logsParam(ctx, [warning]),
    ctx.limits.maxLogEntries,
  ]);
  return rows.length > 0;
};

export const appendLog = async (
  ctx: PgContext,
  lease: Lease | null,
  jobId: string,
  entry: LogEntry,
): Promise<boolean> => {
  const entries = logsParam(ctx, [entry]);
  const rows = lease
    ? await ctx.rows(ctx.sql.appendLogFenced, [
        jobId,
        lease.lease_token,
        entries,
        ctx.limits.maxLogEntries,
      ])
    : await ctx.rows(ctx.sql.appendLog, [jobId, entries, ctx.limits.maxLogEntries]);
  return rows.length > 0;
};

export const setLlmInfo = async (ctx: PgContext, lease: Lease, info: LlmInfo): Promise<boolean> => {
  const rows = await ctx.rows(ctx.sql.setLlmInfo, [
    lease.job_id,
    lease.lease_token,
    JSON.stringify(info),
  ]);
  return rows.length > 0;
};

type ControlRow = JobRow & TransitionRow & { from_s: JobStatus };

export const cancel = async (
  ctx: PgContext,
  jobId: string,
  reason: string | undefined,
): Promise<CancelResult> => {
  const error: JobError = { code: 'CANCELLED', message: reason ?? 'cancelled by request' };
  for (let tries = 0; ; tries += 1) {
    const [row] = await transition<ControlRow>(ctx, 'cancel', [jobId, errorParam(error)]);
    if (row) return { outcome: 'cancelled', job: rowToJob(row), was: row.from_s };
    const [current] = await ctx.rows<JobRow>(ctx.sql.getJob, [jobId]);
    if (!current) return { outcome: 'not_found' };
    if (current.status !== 'pending' && current.status !== 'processing') {
      return { outcome: 'already_terminal', job: rowToJob(current) };
    }
    // It was retried between the two statements: cancel again (rare; bounded).
    if (tries >= 3) return { outcome: 'already_terminal', job: rowToJob(current) };
  }
};

export const retry = async (ctx: PgContext, jobId: string): Promise<RetryResult> => {
  const [row] = await transition<ControlRow>(ctx, 'retry', [jobId]);
  if (row) return { outcome: 'retried', job: rowToJob(row) };
  const [current] = await ctx.rows<JobRow>(ctx.sql.getJob, [jobId]);
  if (!current) return { outcome: 'not_found' };
  return { outcome: 'not_retryable', job: rowToJob(current) };
};

export const remove = async (ctx: PgContext, jobId: string): Promise<DeleteResult> => {
  const [row] = await ctx.rows<{ status: JobStatus; deleted: number; batch_changes: BatchChanges }>(
    ctx.sql.deleteJob,
    [jobId],
  );
  if (!row) return 'not_found';
  if (row.deleted === 0) return 'running';
  ctx.publishChanges([], row.batch_changes);
  return 'deleted';
};

export const reap = async (ctx: PgContext): Promise<ReapResult> => {
  const rows = await transition<TransitionRow & { seq: string }>(ctx, 'reap', [
    new Date().toISOString(),
    ctx.limits.maxLogEntries,
  ]);
  rows.sort((a, b) => Number(a.seq) - Number(b.seq));
  return {
    requeued: rows.filter((r) => r.status === 'pending').map((r) => r.job_id),
    failed: rows.filter((r) => r.status === 'failed').map((r) => r.job_id),
  };
};
