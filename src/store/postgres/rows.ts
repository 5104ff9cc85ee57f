/**
 * Row ↔ model mapping of the PostgreSQL store. `pg` returns timestamptz as ISO text (see
 * pg-types.ts), jsonb as parsed values and bigint (`seq`) as a string.
 */
import type { Batch, ClaimedJob, Job, JobProgress, JobStatus } from '../../core/job.js';
import type { JobChange, OutboxRecord } from '../job-store.js';

/** Every job column the model needs (not `deliveries`, which only `getDeliveries` reads). */
const JOB_COLUMN_NAMES = [
  'seq',
  'job_id',
  'job_type',
  'status',
  'parameters',
  'webhook',
  'progress',
  'results',
  'error',
  'created_at',
  'updated_at',
  'processing_started_at',
  'completed_at',
  'batch_id',
  'user_id',
  'access_control',
  'logs',
  'external_id',
  'priority',
  'run_at',
  'attempts',
  'max_attempts',
  'lease_owner',
  'lease_token',
  'lease_expires_at',
  'llm_info',
  'version',
] as const;

/** `alias.col, …` for SELECT and RETURNING lists. */
export const jobColumns = (alias?: string): string =>
  JOB_COLUMN_NAMES.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');

/** Columns a transition returns: enough for the event, the batch move and the outbox record. */
export const changeColumns = (alias: string): string =>
  `${alias}.job_id, ${alias}.job_type, ${alias}.batch_id, ${alias}.user_id, ${alias}.status, ${alias}.progress,
   ${alias}.version, ${alias}.updated_at, (${alias}.webhook IS NOT NULL) AS has_webhook`;

export interface JobRow {
  seq: string;
  job_id: string;
  job_type: string;
  status: JobStatus;
  parameters: Record<string, unknown>;
  webhook: Job['webhook'];
  progress: JobProgress | null;
  results: Record<string, unknown> | null;
  error: Job['error'];
  created_at: string;
  updated_at: string;
  processing_started_at: string | null;
  completed_at: string | null;
  batch_id: string | null;
  user_id: string | null;
  access_control: Job['access_control'];
  logs: Job['logs'];
  external_id: string | null;
  priority: number;
  run_at: string;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: string | null;
  llm_info: Job['llm_info'];
  version: number;
}

export interface ChangeRow {
  job_id: string;
  job_type: string;
  batch_id: string | null;
  user_id: string | null;
  status: JobStatus;
  progress: JobProgress | null;
  version: number;
  updated_at: string;
}

export interface BatchRow {
  seq: string;
  batch_id: string;
  batch_name: string;
  status: Batch['status'];
  total_jobs: number;
  pending_jobs: number;
  processing_jobs: number;
  completed_jobs: number;
  failed_jobs: number;
  cancelled_jobs: number;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  user_id: string | null;
  access_control: Batch['access_control'];
  webhook: Batch['webhook'];
}

export interface OutboxRow {
  seq: string;
  event_id: string;
  target: string;
  job_id: string | null;
  batch_id: string | null;
  kind: OutboxRecord['kind'];
  snapshot: OutboxRecord['snapshot'];
  status: OutboxRecord['status'];
  attempts: number;
  next_attempt_at: string;
  created_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  superseded?: boolean;
}

export const rowToJob = (r: JobRow): Job => ({
  job_id: r.job_id,
  job_type: r.job_type,
  status: r.status,
  parameters: r.parameters,
  webhook: r.webhook,
  progress: r.progress,
  results: r.results,
  error: r.error,
  created_at: r.created_at,
  updated_at: r.updated_at,
  processing_started_at: r.processing_started_at,
  completed_at: r.completed_at,
  batch_id: r.batch_id,
  user_id: r.user_id,
  access_control: r.access_control,
  logs: r.logs,
  external_id: r.external_id,
  priority: r.priority,
  run_at: r.run_at,
  attempts: r.attempts,
  max_attempts: r.max_attempts,
  lease_owner: r.lease_owner,
  lease_expires_at: r.lease_expires_at,
  llm_info: r.llm_info,
  version: r.version,
});

export const rowToClaimedJob = (r: JobRow): ClaimedJob => ({
  ...rowToJob(r),
  lease_token: r.lease_token ?? '',
});

export const rowToChange = (r: ChangeRow): JobChange => ({
  job_id: r.job_id,
  job_type: r.job_type,
  batch_id: r.batch_id,
  user_id: r.user_id,
  status: r.status,
  progress: r.progress,
  version: r.version,
  updated_at: r.updated_at,
});

export const rowToBatch = (r: BatchRow): Batch => ({
  batch_id: r.batch_id,
  batch_name: r.batch_name,
  status: r.status,
  total_jobs: r.total_jobs,
  pending_jobs: r.pending_jobs,
  processing_jobs: r.processing_jobs,
  completed_jobs: r.completed_jobs,
  failed_jobs: r.failed_jobs,
  cancelled_jobs: r.cancelled_jobs,
  created_at: r.created_at,
  updated_at: r.updated_at,
  completed_at: r.completed_at,
  user_id: r.user_id,
  access_control: r.access_control,
  webhook: r.webhook,
});

export const rowToOutbox = (r: OutboxRow): OutboxRecord => ({
  event_id: r.event_id,
  seq: Number(r.seq),
  job_id: r.job_id,
  batch_id: r.batch_id,
  kind: r.kind,
  snapshot: r.snapshot,
  status: r.status,
  attempts: r.attempts,
  next_attempt_at: r.next_attempt_at,
  created_at: r.created_at,
  superseded: r.superseded === true,
});

/** The insert form of a job built by `buildJob` (timestamps come from the database clock). */
export const jobInsertValue = (j: Job, runAt: string | null): Record<string, unknown> => ({
  job_id: j.job_id,
  job_type: j.job_type,
  parameters: j.parameters,
  webhook: j.webhook,
  batch_id: j.batch_id,
  user_id: j.user_id,
  access_control: j.access_control,
  external_id: j.external_id,
  priority: j.priority,
  run_at: runAt,
  max_attempts: j.max_attempts,
});
