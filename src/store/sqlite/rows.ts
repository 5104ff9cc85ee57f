/** Row ↔ model mapping for the SQLite store (timestamps are epoch ms, JSON columns are text). */
import type { Batch, ClaimedJob, Job } from '../../core/job.js';
import type { DeliveryAttempt, OutboxRecord } from '../job-store.js';

/** ISO conversions are memoised: rows of one enqueue or claim share their timestamps. */
const isoMemo = new Map<number, string>();
export const iso = (ms: number): string => {
  let v = isoMemo.get(ms);
  if (v === undefined) {
    v = new Date(ms).toISOString();
    if (isoMemo.size >= 512) isoMemo.clear();
    isoMemo.set(ms, v);
  }
  return v;
};
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export interface JobRow {
  seq: number;
  job_id: string;
  job_type: string;
  status: string;
  parameters: string;
  webhook: string | null;
  progress: string | null;
  results: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  processing_started_at: number | null;
  completed_at: number | null;
  batch_id: string | null;
  user_id: string | null;
  access_control: string;
  visibility: string;
  logs: string;
  external_id: string | null;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: number | null;
  llm_info: string | null;
  deliveries: string;
  version: number;
}

/**
 * Columns read back for a claimed job, in `arrayToClaimedJob` order: all but the delivery log
 * and the ones the claim itself just wrote (status, lease, progress, timestamps), which the
 * claim passes in. Claims read rows in raw (array) mode and build the job in one step: the
 * claim is the hottest read of the store, and every value read costs (measured: the 7 known
 * columns were a quarter of the read).
 */
export const CLAIM_COLUMNS = [
  'seq',
  'job_id',
  'job_type',
  'parameters',
  'webhook',
  'results',
  'error',
  'created_at',
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
  'llm_info',
  'version',
] as const;

/** What a claim wrote into every row it claimed. */
export interface ClaimWrite {
  owner: string;
  token: string;
  /** ISO instants of the claim and of the lease's end. */
  now: string;
  leaseExpires: string;
}

/** A raw row of `CLAIM_COLUMNS` as a claimed job; `seq` comes back beside it. */
export const arrayToClaimedJob = (a: unknown[], w: ClaimWrite): ClaimedJob => ({
  job_id: a[1] as string,
  job_type: a[2] as string,
  status: 'processing',
  parameters: JSON.parse(a[3] as string) as Job['parameters'],
  webhook: json(a[4] as string | null),
  progress: null,
  results: json(a[5] as string | null),
  error: json(a[6] as string | null),
  created_at: iso(a[7] as number),
  updated_at: w.now,
  processing_started_at: w.now,
  completed_at: isoOrNull(a[8] as number | null),
  batch_id: a[9] as string | null,
  user_id: a[10] as string | null,
  access_control: JSON.parse(a[11] as string) as Job['access_control'],
  logs: a[12] === '[]' ? [] : (JSON.parse(a[12] as string) as Job['logs']),
  external_id: a[13] as string | null,
  priority: a[14] as number,
  run_at: iso(a[15] as number),
  attempts: a[16] as number,
  max_attempts: a[17] as number,
  lease_owner: w.owner,
  lease_expires_at: w.leaseExpires,
  llm_info: json(a[18] as string | null),
  version: a[19] as number,
  lease_token: w.token,
});

export interface BatchRow {
  seq: number;
  batch_id: string;
  batch_name: string;
  status: string;
  total_jobs: number;
  pending_jobs: number;
  processing_jobs: number;
  completed_jobs: number;
  failed_jobs: number;
  cancelled_jobs: number;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  user_id: string | null;
  access_control: string;
  visibility: string;
  webhook: string | null;
}

export interface OutboxRow {
  seq: number;
  event_id: string;
  target: string;
  job_id: string | null;
  batch_id: string | null;
  kind: string;
  snapshot: string | null;
  status: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  superseded?: number;
}

export const ms = (isoText: string): number => {
  const v = Date.parse(isoText);
  if (Number.isNaN(v)) throw new RangeError(`not an ISO timestamp: ${isoText}`);
  return v;
};
export const jsonOrNull = (v: unknown): string | null =>
  v === null || v === undefined ? null : JSON.stringify(v);

export const rowToJob = (r: JobRow): Job => ({
  job_id: r.job_id,
  job_type: r.job_type,
  status: r.status as Job['status'],
  parameters: JSON.parse(r.parameters) as Job['parameters'],
  webhook: json(r.webhook),
  progress: json(r.progress),
  results: json(r.results),
  error: json(r.error),
  created_at: iso(r.created_at),
  updated_at: iso(r.updated_at),
  processing_started_at: isoOrNull(r.processing_started_at),
  completed_at: isoOrNull(r.completed_at),
  batch_id: r.batch_id,
  user_id: r.user_id,
  access_control: JSON.parse(r.access_control) as Job['access_control'],
  logs: JSON.parse(r.logs) as Job['logs'],
  external_id: r.external_id,
  priority: r.priority,
  run_at: iso(r.run_at),
  attempts: r.attempts,
  max_attempts: r.max_attempts,
  lease_owner: r.lease_owner,
  lease_expires_at: isoOrNull(r.lease_expires_at),
  llm_info: json(r.llm_info),
  version: r.version,
});

/** Named parameters for inserting a job built by `buildJob`. */
export const jobToParams = (j: Job): Record<string, unknown> => ({
  job_id: j.job_id,
  job_type: j.job_type,
  status: j.status,
  parameters: JSON.stringify(j.parameters),
  webhook: jsonOrNull(j.webhook),
  created_at: ms(j.created_at),
  updated_at: ms(j.updated_at),
  batch_id: j.batch_id,
  user_id: j.user_id,
  access_control: JSON.stringify(j.access_control),
  visibility: j.access_control.visibility,
  external_id: j.external_id,
  priority: j.priority,
  run_at: ms(j.run_at),
  max_attempts: j.max_attempts,
});

export const rowToBatch = (r: BatchRow): Batch => ({
  batch_id: r.batch_id,
  batch_name: r.batch_name,
  status: r.status as Batch['status'],
  total_jobs: r.total_jobs,
  pending_jobs: r.pending_jobs,
  processing_jobs: r.processing_jobs,
  completed_jobs: r.completed_jobs,
  failed_jobs: r.failed_jobs,
  cancelled_jobs: r.cancelled_jobs,
  created_at: iso(r.created_at),
  updated_at: iso(r.updated_at),
  completed_at: isoOrNull(r.completed_at),
  user_id: r.user_id,
  access_control: JSON.parse(r.access_control) as Batch['access_control'],
  webhook: json(r.webhook),
});

export const rowToOutbox = (r: OutboxRow): OutboxRecord => ({
  event_id: r.event_id,
  seq: r.seq,
  job_id: r.job_id,
  batch_id: r.batch_id,
  kind: r.kind as OutboxRecord['kind'],
  snapshot: json(r.snapshot),
  status: r.status as OutboxRecord['status'],
  attempts: r.attempts,
  next_attempt_at: iso(r.next_attempt_at),
  created_at: iso(r.created_at),
  superseded: Boolean(r.superseded),
});

export const parseDeliveries = (text: string | null | undefined): DeliveryAttempt[] =>
  text ? (JSON.parse(text) as DeliveryAttempt[]) : [];
