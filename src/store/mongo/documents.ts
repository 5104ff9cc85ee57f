/**
 * The stored shape of the MongoDB store and its mapping to the contract's types (pure, no I/O).
 *
 * Jobs and batches keep the seeds' document shape (`jobs`, `batches`; snake_case fields;
 * timestamps, log timestamps included, as BSON dates; `_id` an ObjectId nobody uses), so the
 * tools that read the original's collections keep working. Fields the original did not have
 * (`seq`, `version`, `priority`, `run_at`, `attempts`, lease fields, `external_id`, …) are
 * additions; documents written by the original (without them) still map to a valid `Job`.
 */
import type { ObjectId } from 'mongodb';
import {
  defaultAccessControl,
  type AccessControl,
  type Batch,
  type BatchStatus,
  type ClaimedJob,
  type Job,
  type JobError,
  type JobProgress,
  type JobStatus,
  type LlmInfo,
  type LogEntry,
  type WebhookConfig,
} from '../../core/job.js';
import type { DeliveryAttempt, OutboxKind, OutboxRecord, OutboxStatus } from '../job-store.js';

export interface LogDoc {
  timestamp: Date | string;
  level: LogEntry['level'];
  message: string;
}

/** A webhook record written in the same update as the transition that causes it (no-transaction mode). */
export interface OutboxIntent {
  event_id: string;
  kind: OutboxKind;
  snapshot: OutboxRecord['snapshot'];
  created_at: Date;
}

export interface JobDoc {
  _id?: ObjectId;
  job_id: string;
  job_type: string;
  status: JobStatus;
  parameters: Record<string, unknown>;
  webhook: WebhookConfig | null;
  progress: JobProgress | null;
  results: Record<string, unknown> | null;
  error: JobError | null;
  created_at: Date;
  updated_at: Date;
  processing_started_at: Date | null;
  completed_at: Date | null;
  batch_id: string | null;
  user_id: string | null;
  access_control: AccessControl;
  logs: LogDoc[];
  /** null when absent: the unique index is partial on `{$type: 'string'}`. */
  external_id: string | null;
  priority: number;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: Date | null;
  llm_info: LlmInfo | null;
  webhook_deliveries: DeliveryAttempt[];
  version: number;
  /** Creation order (from the `counters` collection): FIFO tie-break and list cursors. */
  seq: number;
  /** Written as `false` like the original; nothing sets it. */
  archived: boolean;
  outbox_intents?: OutboxIntent[];
}

export interface BatchDoc {
  _id?: ObjectId;
  batch_id: string;
  batch_name: string;
  status: BatchStatus;
  total_jobs: number;
  pending_jobs: number;
  processing_jobs: number;
  completed_jobs: number;
  failed_jobs: number;
  cancelled_jobs: number;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  user_id: string | null;
  access_control: AccessControl;
  webhook: WebhookConfig | null;
  seq: number;
  /** Bumped by every counter change; a recount writes only if it is unchanged (see repair.ts). */
  rev: number;
  /** The `rev` at which a recount last found the counters right (repair.ts). */
  checked_rev?: number | null;
  archived: boolean;
  isActive: boolean;
  outbox_intents?: OutboxIntent[];
}

export interface OutboxDoc {
  _id?: ObjectId;
  event_id: string;
  seq: number;
  /** `job:<job_id>` or `batch:<batch_id>`: records of one target go out one at a time in `seq` order. */
  target: string;
  job_id: string | null;
  batch_id: string | null;
  kind: OutboxKind;
  snapshot: OutboxRecord['snapshot'];
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date;
  created_at: Date;
  lease_owner: string | null;
  lease_expires_at: Date | null;
}

/** One holder of a per-type slot (see claim.ts): the lease token of a claim and when it was taken. */
export interface SlotHolder {
  token: string;
  at: Date;
}

export interface SlotDoc {
  _id: string;
  holders: SlotHolder[];
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

// ---------------------------------------------------------------- timestamps

/** ISO string → BSON date. Throws on garbage so a bad instant never reaches a query. */
export const toDate = (iso: string): Date => {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not an ISO timestamp: ${iso}`);
  return d;
};

/** Stored timestamp (a BSON date; tolerates the strings and numbers of foreign writers) → ISO string. */
export const isoOf = (v: unknown): string => {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string' || typeof v === 'number') {
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d.toISOString();
    return String(v);
  }
  return new Date(0).toISOString();
};

export const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : isoOf(v));

/** Log timestamps are dates like the original's; a timestamp that is not an instant is kept as given. */
export const logToDoc = (e: LogEntry): LogDoc => {
  const d = new Date(e.timestamp);
  return { timestamp: Number.isNaN(d.getTime()) ? e.timestamp : d, level: e.level, message: e.message };
};

const logFromDoc = (l: LogDoc): LogEntry => ({
  timestamp: l.timestamp instanceof Date ? l.timestamp.toISOString() : String(l.timestamp),
  level: l.level,
  message: l.message,
});

// ---------------------------------------------------------------- jobs

export const jobToDoc = (j: Job, seq: number): JobDoc => ({
  job_id: j.job_id,
  job_type: j.job_type,
  status: j.status,
  parameters: j.parameters,
  webhook: j.webhook,
  progress: j.progress,
  results: j.results,
  error: j.error,
  created_at: toDate(j.created_at),
  updated_at: toDate(j.updated_at),
  processing_started_at: j.processing_started_at === null ? null : toDate(j.processing_started_at),
  completed_at: j.completed_at === null ? null : toDate(j.completed_at),
  batch_id: j.batch_id,
  user_id: j.user_id,
  access_control: j.access_control,
  logs: j.logs.map(logToDoc),
  external_id: j.external_id,
  priority: j.priority,
  run_at: toDate(j.run_at),
  attempts: j.attempts,
  max_attempts: j.max_attempts,
  lease_owner: j.lease_owner,
  lease_token: null,
  lease_expires_at: j.lease_expires_at === null ? null : toDate(j.lease_expires_at),
  llm_info: j.llm_info,
  webhook_deliveries: [],
  version: j.version,
  seq,
  archived: false,
});

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** Tolerant of documents written by the original (missing fields get the contract's defaults). */
export const docToJob = (d: Partial<JobDoc> & { job_id: string }): Job => {
  const userId = d.user_id ?? null;
  return {
    job_id: d.job_id,
    job_type: d.job_type || 'session',
    status: d.status ?? 'pending',
    parameters: d.parameters ?? {},
    webhook: d.webhook ?? null,
    progress: d.progress ?? null,
    results: d.results ?? null,
    error: d.error ?? null,
    created_at: isoOf(d.created_at),
    updated_at: isoOf(d.updated_at ?? d.created_at),
    processing_started_at: isoOrNull(d.processing_started_at),
    completed_at: isoOrNull(d.completed_at),
    batch_id: d.batch_id ?? null,
    user_id: userId,
    access_control: d.access_control ?? defaultAccessControl(userId),
    logs: Array.isArray(d.logs) ? d.logs.map(logFromDoc) : [],
    external_id: d.external_id ?? null,
    priority: num(d.priority, 0),
    run_at: isoOf(d.run_at ?? d.created_at),
    attempts: num(d.attempts, 0),
    max_attempts: num(d.max_attempts, 3),
    lease_owner: d.lease_owner ?? null,
    lease_expires_at: isoOrNull(d.lease_expires_at),
    llm_info: d.llm_info ?? null,
    version: num(d.version, 1),
  };
};

export const docToClaimedJob = (d: JobDoc): ClaimedJob => ({ ...docToJob(d), lease_token: d.lease_token ?? '' });

// ---------------------------------------------------------------- batches

export const batchToDoc = (b: Batch, seq: number): BatchDoc => ({
  batch_id: b.batch_id,
  batch_name: b.batch_name,
  status: b.status,
  total_jobs: b.total_jobs,
  pending_jobs: b.pending_jobs,
  processing_jobs: b.processing_jobs,
  completed_jobs: b.completed_jobs,
  failed_jobs: b.failed_jobs,
  cancelled_jobs: b.cancelled_jobs,
  created_at: toDate(b.created_at),
  updated_at: toDate(b.updated_at),
  completed_at: b.completed_at === null ? null : toDate(b.completed_at),
  user_id: b.user_id,
  access_control: b.access_control,
  webhook: b.webhook,
  seq,
  rev: 0,
  archived: false,
  isActive: true,
});

export const docToBatch = (d: Partial<BatchDoc> & { batch_id: string }): Batch => {
  const userId = d.user_id ?? null;
  return {
    batch_id: d.batch_id,
    batch_name: d.batch_name ?? d.batch_id,
    status: d.status ?? 'pending',
    total_jobs: num(d.total_jobs, 0),
    pending_jobs: num(d.pending_jobs, 0),
    processing_jobs: num(d.processing_jobs, 0),
    completed_jobs: num(d.completed_jobs, 0),
    failed_jobs: num(d.failed_jobs, 0),
    cancelled_jobs: num(d.cancelled_jobs, 0),
    created_at: isoOf(d.created_at),
    updated_at: isoOf(d.updated_at ?? d.created_at),
    completed_at: isoOrNull(d.completed_at),
    user_id: userId,
    access_control: d.access_control ?? defaultAccessControl(userId),
    webhook: d.webhook ?? null,
  };
};

// ---------------------------------------------------------------- outbox

export const jobTarget = (jobId: string): string => `job:${jobId}`;
export const batchTarget = (batchId: string): string => `batch:${batchId}`;

export const docToOutbox = (d: OutboxDoc, superseded = false): OutboxRecord => ({
  event_id: d.event_id,
  seq: d.seq,
  job_id: d.job_id,
  batch_id: d.batch_id,
  kind: d.kind,
  snapshot: d.snapshot ?? null,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: isoOf(d.next_attempt_at),
  created_at: isoOf(d.created_at),
  superseded,
});

// ---------------------------------------------------------------- validation and URLs

/**
 * The first key starting with `$` anywhere in `value` (path like `/parameters/nested/$gt`), or null.
 * Such keys are refused: update operators cannot write them on every supported server version.
 */
export const findDollarKey = (value: unknown, path = ''): string | null => {
  const stack: [unknown, string, number][] = [[value, path, 0]];
  while (stack.length) {
    const [v, p, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object' || depth > 200) continue;
    if (v instanceof Date) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, `${p}/${i}`, depth + 1]));
      continue;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if (k.startsWith('$')) return `${p}/${k}`;
      stack.push([child, `${p}/${k}`, depth + 1]);
    }
  }
  return null;
};

/**
 * The database named in a `mongodb://` / `mongodb+srv://` URI path (`…/secretary?…` → `secretary`),
 * or null when the URI names none (the original then refused to start).
 */
export const dbNameFromUrl = (url: string): string | null => {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/i.exec(url);
  const raw = m?.[1];
  if (!raw) return null;
  try {
    const name = decodeURIComponent(raw);
    return name.length > 0 ? name : null;
  } catch {
    return null;
  }
};
