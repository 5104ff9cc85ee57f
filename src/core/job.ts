/**
 * The job model of Secretary, in the seeds' wire format (snake_case).
 *
 * Glossary
 * - **job**: one unit of work of a `job_type` (`pdf`, `imageocr`, `session`, …) with its
 *   `parameters`; it moves `pending → processing → completed | failed | cancelled`.
 * - **batch**: a named group of jobs created together; its counters follow its jobs.
 * - **attempt**: one execution of a job by a handler. A retryable failure puts the job back
 *   to `pending` with a later `run_at`; `attempts` counts claims, `max_attempts` bounds them.
 * - **lease**: the right of one worker to run one job until `lease_expires_at`. Every claim
 *   makes a fresh `lease_token`; every write of the running worker is fenced by it, so a
 *   worker that lost its lease cannot overwrite a re-run.
 * - **handler**: the function registered for a `job_type`; it gets the job and a context
 *   (`signal`, `progress`, `log`, `usage`) and returns results or throws.
 * - **worker**: the loop that claims jobs from the store and runs handlers with bounded
 *   concurrency, renewing leases by heartbeat.
 * - **store**: the database behind it all (SQLite, PostgreSQL, MongoDB) behind one contract.
 * - **outbox**: webhook callbacks recorded in the same transaction as the state change that
 *   causes them, sent later by the delivery loop.
 */

export const JOB_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
export const isTerminal = (s: JobStatus): boolean => TERMINAL_STATUSES.includes(s);

export const BATCH_STATUSES = [
  'pending',
  'processing',
  'completed',
  'failed',
  'cancelled',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface JobProgress {
  step: string;
  /** 0..100, never decreasing while a job runs. */
  percent: number;
  message: string | null;
}

export interface JobError {
  code: string;
  message: string;
  details?: Record<string, unknown> | null;
}

export interface LogEntry {
  timestamp: string;
  level: LogLevel;
  message: string;
}

/** How callbacks of a job are delivered. */
export type WebhookDelivery = 'at_most_once' | 'at_least_once';

export interface WebhookConfig {
  url: string;
  /** Secret sent as `Authorization: Bearer` and `X-Callback-Token`; never returned by the API. */
  token?: string | null;
  /** Extra request headers; never returned by the API. */
  headers?: Record<string, string> | null;
  include_markdown?: boolean;
  include_metadata?: boolean;
  /** Default `at_most_once`: a request that reached the receiver is not sent again. */
  delivery?: WebhookDelivery;
}

export interface AccessControl {
  visibility: 'private' | 'public';
  read_access: string[];
  write_access: string[];
  admin_access: string[];
}

/** One LLM (or OCR/transcription) request, the seeds' `llm_info.requests[]`. */
export interface LlmRequest {
  model: string;
  purpose: string;
  /** Prompt + completion tokens (0 for OCR pages and audio minutes). */
  tokens: number;
  /** Milliseconds. */
  duration: number;
  processor: string;
  timestamp: string;
  /** The provider's name in `llm.providers`. */
  provider?: string;
  prompt_tokens?: number;
  completion_tokens?: number;
  /** OCR: pages processed. */
  pages?: number;
  /** Transcription: seconds of audio. */
  audio_seconds?: number;
  /** USD; null when the model has no price in the table (unknown, not free); 0 for a cache hit. */
  cost?: number | null;
  /** Answered from the response cache (no provider call, no cost). */
  from_cache?: boolean;
}

export interface LlmInfo {
  requests: LlmRequest[];
  requests_count: number;
  total_tokens: number;
  /** Milliseconds. */
  total_duration: number;
  /** USD of all requests; null as soon as one request's cost is unknown. */
  total_cost?: number | null;
}

export interface Job {
  job_id: string;
  job_type: string;
  status: JobStatus;
  parameters: Record<string, unknown>;
  webhook: WebhookConfig | null;
  progress: JobProgress | null;
  results: Record<string, unknown> | null;
  error: JobError | null;
  created_at: string;
  updated_at: string;
  processing_started_at: string | null;
  completed_at: string | null;
  batch_id: string | null;
  user_id: string | null;
  access_control: AccessControl;
  logs: LogEntry[];
  /** The client's own id for this job (`jobId`); unique when given. */
  external_id: string | null;
  /** Higher runs first; FIFO within one priority. */
  priority: number;
  /** Not claimed before this instant (retry backoff, scheduled jobs). */
  run_at: string;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  llm_info: LlmInfo | null;
  /** Bumped by every write; SSE event ids and cheap change checks use it. */
  version: number;
}

/** A job as handed to the worker that claimed it: carries the fencing token. */
export interface ClaimedJob extends Job {
  lease_token: string;
}

export interface Batch {
  batch_id: string;
  batch_name: string;
  status: BatchStatus;
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
  access_control: AccessControl;
  webhook: WebhookConfig | null;
}

/** What a caller gives to create a job. */
export interface NewJob {
  job_type: string;
  parameters?: Record<string, unknown>;
  webhook?: WebhookConfig | null;
  user_id?: string | null;
  batch_id?: string | null;
  external_id?: string | null;
  priority?: number;
  /** ISO instant; default now. */
  run_at?: string | null;
  max_attempts?: number;
  access_control?: AccessControl | null;
  /** Optional caller-chosen id (tests, imports); default a fresh `job-<uuid>`. */
  job_id?: string;
}

export interface NewBatch {
  batch_name?: string | null;
  jobs: NewJob[];
  user_id?: string | null;
  webhook?: WebhookConfig | null;
  access_control?: AccessControl | null;
}

/** The progress a completed job reports (seed 000: `completed`, 100 %). */
export const COMPLETED_PROGRESS: JobProgress = Object.freeze({
  step: 'completed',
  percent: 100,
  message: 'Verarbeitung abgeschlossen',
});

export const defaultAccessControl = (userId: string | null | undefined): AccessControl =>
  userId
    ? {
        visibility: 'private',
        read_access: [userId],
        write_access: [userId],
        admin_access: [userId],
      }
    : { visibility: 'private', read_access: [], write_access: [], admin_access: [] };

export const emptyLlmInfo = (): LlmInfo => ({
  requests: [],
  requests_count: 0,
  total_tokens: 0,
  total_duration: 0,
  total_cost: 0,
});

/** Rounds USD to 1e-8 so sums of many small prices do not show float noise. */
const roundUsd = (n: number): number => Math.round(n * 1e8) / 1e8;

export const addLlmRequest = (info: LlmInfo | null, req: LlmRequest): LlmInfo => {
  const base = info ?? emptyLlmInfo();
  const known = base.total_cost !== null && base.total_cost !== undefined;
  const cost = req.cost === undefined ? 0 : req.cost;
  return {
    requests: [...base.requests, req],
    requests_count: base.requests_count + 1,
    total_tokens: base.total_tokens + (req.tokens || 0),
    total_duration: base.total_duration + (req.duration || 0),
    total_cost: known && cost !== null ? roundUsd((base.total_cost ?? 0) + cost) : null,
  };
};

/** Sums the `llm_info` of several jobs (a batch): counts, tokens, duration and cost. */
export const sumLlmInfo = (
  infos: Iterable<LlmInfo | null | undefined>,
): Omit<LlmInfo, 'requests'> => {
  const out = {
    requests_count: 0,
    total_tokens: 0,
    total_duration: 0,
    total_cost: 0 as number | null,
  };
  for (const i of infos) {
    if (!i) continue;
    out.requests_count += i.requests_count;
    out.total_tokens += i.total_tokens;
    out.total_duration += i.total_duration;
    const c = i.total_cost === undefined ? 0 : i.total_cost;
    out.total_cost = out.total_cost === null || c === null ? null : roundUsd(out.total_cost + c);
  }
  return out;
};

/** Derives a batch's status from its counters (empty batch: completed at once). */
export const deriveBatchStatus = (b: {
  total_jobs: number;
  pending_jobs: number;
  processing_jobs: number;
  completed_jobs: number;
  failed_jobs: number;
  cancelled_jobs: number;
}): BatchStatus => {
  const done = b.completed_jobs + b.failed_jobs + b.cancelled_jobs;
  if (done >= b.total_jobs) {
    if (b.failed_jobs > 0) return 'failed';
    if (b.cancelled_jobs > 0 && b.completed_jobs === 0 && b.total_jobs > 0) return 'cancelled';
    return 'completed';
  }
  if (b.processing_jobs > 0 || done > 0) return 'processing';
  return 'pending';
};
