/**
 * Pure helpers every backend uses, so that all backends build, cap and count the same way.
 */
import {
  defaultAccessControl,
  deriveBatchStatus,
  JOB_STATUSES,
  type Batch,
  type BatchStatus,
  type Job,
  type JobProgress,
  type JobStatus,
  type LogEntry,
  type NewBatch,
  type NewJob,
} from '../core/job.js';
import { newBatchId, newJobId } from '../core/ids.js';
import { SecretaryError } from '../core/errors.js';
import type { JobChange, StoreLimits } from './job-store.js';

export const DEFAULT_MAX_ATTEMPTS = 3;

/** Builds the stored form of a new job (status `pending`, defaults filled). */
export const buildJob = (input: NewJob, nowIso: string, batchId?: string | null): Job => {
  if (typeof input.job_type !== 'string' || input.job_type.length === 0) {
    throw new SecretaryError('INVALID_PARAMETERS', 'job_type must be a non-empty string', {
      details: [{ path: '/job_type', problem: 'required' }],
    });
  }
  const userId = input.user_id ?? null;
  return {
    job_id: input.job_id ?? newJobId(),
    job_type: input.job_type,
    status: 'pending',
    parameters: input.parameters ?? {},
    webhook: input.webhook ?? null,
    progress: null,
    results: null,
    error: null,
    created_at: nowIso,
    updated_at: nowIso,
    processing_started_at: null,
    completed_at: null,
    batch_id: batchId ?? input.batch_id ?? null,
    user_id: userId,
    access_control: input.access_control ?? defaultAccessControl(userId),
    logs: [],
    external_id: input.external_id ?? null,
    priority: Math.trunc(input.priority ?? 0),
    run_at: input.run_at ?? nowIso,
    attempts: 0,
    max_attempts: Math.max(1, Math.trunc(input.max_attempts ?? DEFAULT_MAX_ATTEMPTS)),
    lease_owner: null,
    lease_expires_at: null,
    llm_info: null,
    version: 1,
  };
};

export const buildBatch = (input: NewBatch, nowIso: string): Batch => {
  const userId = input.user_id ?? null;
  const batchId = newBatchId();
  const total = input.jobs.length;
  const base = {
    total_jobs: total,
    pending_jobs: total,
    processing_jobs: 0,
    completed_jobs: 0,
    failed_jobs: 0,
    cancelled_jobs: 0,
  };
  const status = deriveBatchStatus(base);
  return {
    batch_id: batchId,
    batch_name: input.batch_name || batchId,
    status,
    ...base,
    created_at: nowIso,
    updated_at: nowIso,
    completed_at: status === 'completed' ? nowIso : null,
    user_id: userId,
    access_control: input.access_control ?? defaultAccessControl(userId),
    webhook: input.webhook ?? null,
  };
};

/** Counter column of a batch for a job status. */
export const counterOf = (s: JobStatus): 'pending_jobs' | 'processing_jobs' | 'completed_jobs' | 'failed_jobs' | 'cancelled_jobs' =>
  `${s}_jobs` as const;

export const isBatchTerminal = (s: BatchStatus): boolean =>
  s === 'completed' || s === 'failed' || s === 'cancelled';

/**
 * The one status of a status filter, when it is exactly one known status: lists write it as a
 * literal, so the planner can use that status's partial index.
 */
export const singleStatus = (statuses: string[] | undefined): JobStatus | undefined =>
  statuses?.length === 1 && (JOB_STATUSES as readonly string[]).includes(statuses[0]!)
    ? (statuses[0] as JobStatus)
    : undefined;

/** A progress percent as stored: a whole number in 0..100 (0 when not a finite number). */
export const progressPercent = (p: JobProgress): number =>
  Math.max(0, Math.min(100, Math.round(Number.isFinite(p.percent) ? p.percent : 0)));

/** Truncates a log message and normalises its level. */
export const normaliseLog = (entry: LogEntry, limits: StoreLimits): LogEntry => ({
  timestamp: entry.timestamp,
  level: (['debug', 'info', 'warning', 'error', 'critical'] as const).includes(entry.level) ? entry.level : 'info',
  message:
    typeof entry.message === 'string'
      ? entry.message.length > limits.maxLogMessage
        ? `${entry.message.slice(0, limits.maxLogMessage)}… [truncated ${entry.message.length - limits.maxLogMessage} chars]`
        : entry.message
      : String(entry.message),
});

export const capLogs = (logs: LogEntry[], limits: StoreLimits): LogEntry[] =>
  logs.length > limits.maxLogEntries ? logs.slice(logs.length - limits.maxLogEntries) : logs;

export const jobChange = (j: Pick<Job, 'job_id' | 'job_type' | 'batch_id' | 'user_id' | 'status' | 'progress' | 'version' | 'updated_at'>): JobChange => ({
  job_id: j.job_id,
  job_type: j.job_type,
  batch_id: j.batch_id,
  user_id: j.user_id,
  status: j.status,
  progress: j.progress,
  version: j.version,
  updated_at: j.updated_at,
});

/** Opaque cursors: base64url of a JSON tuple. */
export const encodeCursor = (parts: unknown[]): string =>
  Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');

export const decodeCursor = (cursor: string | null | undefined): unknown[] | null => {
  if (!cursor) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
};

export const invalidCursor = (): SecretaryError =>
  new SecretaryError('INVALID_PARAMETERS', 'invalid cursor', {
    details: [{ path: '/cursor', problem: 'not a cursor returned by this API' }],
  });

export const asArray = <T>(v: T | T[] | undefined): T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

/** Validates a user-supplied external id (the client's `jobId`). */
export const checkExternalId = (id: string | null | undefined): void => {
  if (id === null || id === undefined) return;
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
    throw new SecretaryError('INVALID_PARAMETERS', 'external_id must be a string of 1..200 characters', {
      details: [{ path: '/external_id', problem: 'length 1..200' }],
    });
  }
};
