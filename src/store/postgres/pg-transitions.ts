/**
 * Fenced worker writes and control transitions of the PostgreSQL store. Worker finishes and
 * progress are group-committed (`pg-grouped-writes.ts`: many jobs per statement); the others are
 * one statement each (see `sql/transitions.ts`). Events are published after commit.
 */
import type { JobError, JobProgress, JobStatus, LlmInfo, LogEntry } from '../../core/job.js';
import type { CancelResult, DeleteResult, Lease, ReapResult, RetryResult } from '../job-store.js';
import { capLogs, normaliseLog, progressPercent } from '../store-shared.js';
import type { ChangedRow, PgContext } from './pg-context.js';
import type { GroupedWrites } from './pg-grouped-writes.js';
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
  key: 'cancel' | 'retry' | 'reap',
  values: unknown[],
): Promise<R[]> => {
  const rows = await ctx.rows<R>(ctx.sql[key], values);
  if (rows.length) ctx.publishChanges(rows, rows[0]?.batch_changes);
  return rows;
};

export const updateProgress = (
  groups: GroupedWrites,
  lease: Lease,
  p: JobProgress,
): Promise<boolean> => {
  const percent = progressPercent(p);
  return groups.progress.push<boolean>({
    lease,
    step: String(p.step ?? ''),
    percent,
    message: p.message ?? null,
  });
};

export const complete = (
  ctx: PgContext,
  groups: GroupedWrites,
  lease: Lease,
  results: Record<string, unknown>,
  logs?: LogEntry[],
): Promise<boolean> =>
  groups.finish.push<boolean>({
    lease,
    kind: 'complete',
    results: JSON.stringify(results ?? {}),
    error: null,
    logs: logsParam(ctx, logs),
    retryAt: null,
  });

export const fail = (
  ctx: PgContext,
  groups: GroupedWrites,
  lease: Lease,
  error: JobError,
  retryAt: string | null | undefined,
  logs?: LogEntry[],
): Promise<boolean> => {
  let at: string | null = null;
  if (retryAt) {
    const ms = Date.parse(retryAt);
    at = Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return groups.finish.push<boolean>({
    lease,
    kind: retryAt ? 'retry' : 'fail',
    results: null,
    error: errorParam(error),
    logs: logsParam(ctx, logs),
    retryAt: at,
  });
};

export const release = (
  ctx: PgContext,
  groups: GroupedWrites,
  lease: Lease,
  reason: string,
): Promise<boolean> => {
  const warning: LogEntry = {
    timestamp: new Date().toISOString(),
    level: 'warning',
    message: `released: ${reason}`,
  };
  return groups.finish.push<boolean>({
    lease,
    kind: 'release',
    results: null,
    error: null,
    logs: logsParam(ctx, [warning]),
    retryAt: null,
  });
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
