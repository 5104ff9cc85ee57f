/**
 * The store contract: every backend (SQLite, PostgreSQL, MongoDB) implements `JobStore`, and
 * `test/contract/job-store.contract.ts` proves each one against the same tests.
 *
 * What the contract guarantees (DESIGN §4):
 * 1. `claim` is atomic: a job is held by at most one lease at a time, across processes.
 * 2. Writes of a running worker (`updateProgress`, `appendLog`, `complete`, `fail`,
 *    `release`, `extendLeases`) are fenced by `{job_id, lease_token}` and return `false`
 *    (never throw) when the lease is gone, so a stale worker cannot overwrite a re-run.
 * 3. A status change, the batch counters and the webhook outbox record it causes are
 *    written in one transaction (or, on MongoDB without transactions, in an order that a
 *    crash cannot turn into a lost callback; see the backend's notes).
 * 4. `reapExpiredLeases` returns crashed workers' jobs to `pending` (attempt counted) or
 *    fails them with `WORKER_LOST` when their attempts are spent.
 * 5. `claim` is FIFO within a priority (`priority DESC, run_at ASC, creation order`) and
 *    honours per-type room and cluster-wide per-type caps.
 *
 * What is NOT in the contract: driver handles, transactions, SQL, cursors' inner format
 * (cursors are opaque strings), timestamps' storage type (the contract speaks ISO strings),
 * and how events cross processes (a backend publishes `capabilities.crossProcessEvents`).
 */
import type {
  Batch,
  BatchStatus,
  ClaimedJob,
  Job,
  JobError,
  JobProgress,
  JobStatus,
  LlmInfo,
  LogEntry,
  NewBatch,
  NewJob,
} from '../core/job.js';

export interface StoreCapabilities {
  /** Job events and wakeups reach other processes (LISTEN/NOTIFY, change streams). */
  readonly crossProcessEvents: boolean;
  /** Claims skip rows locked by concurrent claimers instead of waiting (`SKIP LOCKED`). */
  readonly skipLocked: boolean;
  /** Multi-row writes are atomic transactions. */
  readonly transactions: boolean;
  /** Several processes (or hosts) may share this store. */
  readonly multiProcess: boolean;
}

export interface JobFilter {
  status?: JobStatus | JobStatus[];
  job_type?: string;
  batch_id?: string;
  user_id?: string;
  external_id?: string;
  /** Access control: only jobs this user may read (owner, `read_access`, or public). */
  visible_to?: string;
}

export interface BatchFilter {
  status?: BatchStatus | BatchStatus[];
  user_id?: string;
  visible_to?: string;
}

export interface PageRequest {
  /** Default 50, at most 1000. */
  limit?: number;
  /** Opaque cursor from a previous page's `next_cursor`. */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Identifies one claim of one job; every worker write carries it. */
export interface Lease {
  job_id: string;
  lease_token: string;
}

export interface ClaimRequest {
  /** Who claims (worker id); stored as `lease_owner`. */
  owner: string;
  /** Most jobs to claim in this call. */
  limit: number;
  /** Claimable job types, each with the most this caller may take now (its local free room). */
  types: Record<string, number>;
  /** Cluster-wide caps: never more than this many `processing` jobs of a type in the store. */
  clusterLimits?: Record<string, number>;
  leaseMs: number;
}

export interface FailOptions {
  /** Set to retry: the job goes back to `pending` and is not claimed before this instant. */
  retryAt?: string | null;
}

export interface ReapResult {
  requeued: string[];
  failed: string[];
}

export interface PurgeResult {
  /** Jobs removed, with what the file retention needs to remove their files. */
  jobs: {
    job_id: string;
    parameters: Record<string, unknown>;
    results: Record<string, unknown> | null;
  }[];
  batches: number;
  outbox: number;
}

export type CancelResult =
  | { outcome: 'not_found' }
  | { outcome: 'already_terminal'; job: Job }
  | { outcome: 'cancelled'; job: Job; was: JobStatus };

export type RetryResult =
  | { outcome: 'not_found' }
  | { outcome: 'not_retryable'; job: Job }
  | { outcome: 'retried'; job: Job };

export type DeleteResult = 'deleted' | 'not_found' | 'running';

/** A compact view of a job change, published after commit. */
export interface JobChange {
  job_id: string;
  job_type: string;
  batch_id: string | null;
  user_id: string | null;
  status: JobStatus;
  progress: JobProgress | null;
  version: number;
  updated_at: string;
}

export type StoreEvent =
  | { type: 'job'; change: JobChange }
  | { type: 'enqueued'; job_types: string[] }
  | { type: 'batch'; batch_id: string; status: BatchStatus }
  | { type: 'outbox' };

export type StoreListener = (event: StoreEvent) => void;

// ---------------------------------------------------------------- webhook outbox

export const OUTBOX_KINDS = ['progress', 'completed', 'failed', 'cancelled', 'batch'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];
export type OutboxStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'skipped';

/** One callback to send. The payload is built at send time from the job's stored state. */
export interface OutboxRecord {
  event_id: string;
  /** Orders records of one target (a job or a batch). */
  seq: number;
  job_id: string | null;
  batch_id: string | null;
  kind: OutboxKind;
  /** State snapshot at the time of the change (progress for `progress` records). */
  snapshot: { progress?: JobProgress | null; status?: string } | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  created_at: string;
  /** True when a later record of the same target is waiting (a stale progress may be skipped). */
  superseded: boolean;
}

export interface DeliveryAttempt {
  event_id: string;
  kind: OutboxKind;
  attempt: number;
  at: string;
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  outcome: 'delivered' | 'retry' | 'failed' | 'skipped';
}

export interface OutboxClaimRequest {
  owner: string;
  limit: number;
  leaseMs: number;
}

export interface OutboxFinish {
  /** `retry` puts the record back to `pending` with `next_attempt_at`. */
  outcome: 'delivered' | 'retry' | 'failed' | 'skipped';
  next_attempt_at?: string;
  /** Logged on the job (`webhook_deliveries`) when the record belongs to a job. */
  attempt?: DeliveryAttempt;
}

export interface StoreStats {
  by_status: { job_type: string; status: JobStatus; count: number }[];
  /** Pending jobs whose `run_at` has come. */
  ready: number;
  outbox_pending: number;
}

/** The model usage of a batch's jobs, summed by the store (`llm_info` of each job). */
export interface BatchUsage {
  /** Jobs of the batch that recorded any usage. */
  jobs_with_usage: number;
  requests_count: number;
  total_tokens: number;
  /** Milliseconds. */
  total_duration: number;
  /** USD; null as soon as one job's cost is unknown (an unpriced model). */
  total_cost: number | null;
}

export interface JobStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /** Applies migrations (idempotent, safe when several processes start at once). */
  init(): Promise<void>;
  close(): Promise<void>;

  /** Publishes job changes, enqueues, batch changes and outbox wakeups (after commit). */
  subscribe(listener: StoreListener): () => void;

  // ---- create and read
  /** Creates a job; with an `external_id` that exists, returns that job and `created: false`. */
  createJob(input: NewJob): Promise<{ job: Job; created: boolean }>;
  /** Creates many jobs in one transaction (no external ids allowed twice). */
  createJobs(inputs: NewJob[]): Promise<Job[]>;
  /** Creates a batch and its jobs in one transaction; an empty batch is completed at once. */
  createBatch(input: NewBatch): Promise<{ batch: Batch; jobs: Job[] }>;
  getJob(jobId: string): Promise<Job | null>;
  getJobByExternalId(externalId: string): Promise<Job | null>;
  /** Newest first. */
  listJobs(filter: JobFilter, page?: PageRequest): Promise<Page<Job>>;
  getBatch(batchId: string): Promise<Batch | null>;
  listBatches(filter: BatchFilter, page?: PageRequest): Promise<Page<Batch>>;
  /** The version counter of a job (bumped by every write), for cheap change checks. */
  getJobVersion(jobId: string): Promise<number | null>;

  // ---- worker side (fenced)
  claim(req: ClaimRequest): Promise<ClaimedJob[]>;
  /** Renews leases; returns the job ids whose lease is gone (cancelled, reaped, re-claimed). */
  extendLeases(owner: string, leases: Lease[], leaseMs: number): Promise<string[]>;
  updateProgress(lease: Lease, progress: JobProgress): Promise<boolean>;
  appendLog(lease: Lease, entry: LogEntry): Promise<boolean>;
  /** Records LLM usage of the running attempt: replaces `llm_info` with the given aggregate. */
  setLlmInfo(lease: Lease, info: LlmInfo): Promise<boolean>;
  complete(lease: Lease, results: Record<string, unknown>, logs?: LogEntry[]): Promise<boolean>;
  fail(lease: Lease, error: JobError, opts?: FailOptions, logs?: LogEntry[]): Promise<boolean>;
  /** Hands a job back to `pending` without counting the attempt (graceful shutdown). */
  release(lease: Lease, reason: string): Promise<boolean>;

  // ---- control
  cancelJob(jobId: string, reason?: string): Promise<CancelResult>;
  retryJob(jobId: string): Promise<RetryResult>;
  deleteJob(jobId: string): Promise<DeleteResult>;
  /** Appends a log entry from outside the running attempt (API, reaper). */
  addJobLog(jobId: string, entry: LogEntry): Promise<boolean>;
  reapExpiredLeases(): Promise<ReapResult>;
  purgeFinished(olderThan: string, limit?: number): Promise<PurgeResult>;
  stats(): Promise<StoreStats>;
  /** Sums the `llm_info` of the batch's jobs (zeros for an unknown batch). */
  batchUsage(batchId: string): Promise<BatchUsage>;

  // ---- webhook outbox
  /** Claims sendable records: per target only the oldest unfinished one, and none while
   *  another record of the same target is being sent. Expired `sending` leases are reclaimed. */
  claimOutbox(req: OutboxClaimRequest): Promise<OutboxRecord[]>;
  finishOutbox(eventId: string, owner: string, finish: OutboxFinish): Promise<boolean>;
  /** Queues the job's terminal callback again (manual redelivery); null if the job has none. */
  redeliver(jobId: string): Promise<OutboxRecord | null>;
  listOutbox(jobId: string): Promise<OutboxRecord[]>;
  getDeliveries(jobId: string): Promise<DeliveryAttempt[]>;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

export const pageLimit = (page?: PageRequest): number =>
  Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(page?.limit ?? DEFAULT_PAGE_LIMIT)));

/** Limits every backend enforces on stored data. */
export interface StoreLimits {
  /** Log entries kept per job (oldest dropped first). Default 500. */
  maxLogEntries: number;
  /** Characters kept per log message. Default 4000. */
  maxLogMessage: number;
  /** Delivery attempts kept per job. Default 100. */
  maxDeliveries: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = {
  maxLogEntries: 500,
  maxLogMessage: 4000,
  maxDeliveries: 100,
};
