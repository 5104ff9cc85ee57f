/**
 * Callback bodies, shared by webhooks and SSE, shaped as the real client reads them
 * (reference/client-contract.md §3): every body has `phase`, `message`, `process.id` = job id
 * and `job: {id, external_id}`; progress carries a numeric `progress` and no result fields
 * (no final markers, no `status`); `completed` carries the job type's `data`; errors carry
 * `phase: 'error'` and a non-empty `error: {code, message}`. No body ever says `phase: 'failed'`.
 */
import type { Batch, Job, JobProgress } from '../core/job.js';
import type { HandlerRegistry } from '../worker/registry.js';

export type CallbackKind = 'progress' | 'completed' | 'failed' | 'cancelled';

export interface PayloadContext {
  registry: HandlerRegistry;
  /** Absolute base URL (no trailing slash) or null for relative API paths. */
  publicBaseUrl: string | null;
}

export const absoluteUrl = (base: string | null, path: string): string =>
  base && path.startsWith('/') ? `${base.replace(/\/+$/, '')}${path}` : path;

const head = (job: Job) => ({
  process: { id: job.job_id, main_processor: job.job_type },
  job: { id: job.job_id, external_id: job.external_id },
});

/** Phases the receiver treats as final or fatal; a progress body never uses them. */
const NON_PROGRESS_PHASES = new Set(['completed', 'failed', 'error', 'template_completed', 'cancelled']);

const progressPhase = (step: string | undefined): string => {
  const s = (step ?? '').trim();
  if (!s || NON_PROGRESS_PHASES.has(s.toLowerCase())) return 'running';
  return s;
};

export const progressBody = (job: Job, progress: JobProgress | null) => ({
  phase: progressPhase(progress?.step),
  progress: Number.isFinite(progress?.percent) ? Math.max(0, Math.min(100, Number(progress?.percent))) : 0,
  message: progress?.message || progress?.step || 'processing',
  ...head(job),
});

/** Keys of `data` the webhook options can leave out (`include_markdown: false`, `include_metadata: false`). */
const MARKDOWN_KEYS = ['extracted_text', 'markdown', 'markdown_content'];

export const completedData = (job: Job, ctx: PayloadContext): Record<string, unknown> => {
  const def = ctx.registry.get(job.job_type);
  const url = (p: string) => absoluteUrl(ctx.publicBaseUrl, p);
  const data = def?.callbackData ? { ...def.callbackData(job, url) } : { ...(job.results ?? {}) };
  if (job.webhook?.include_markdown === false) for (const k of MARKDOWN_KEYS) delete data[k];
  if (job.webhook?.include_metadata === false) delete data.metadata;
  return data;
};

export const completedBody = (job: Job, ctx: PayloadContext) => ({
  phase: 'completed',
  status: 'completed',
  message: job.progress?.message || 'Verarbeitung abgeschlossen',
  progress: 100,
  ...head(job),
  data: completedData(job, ctx),
});

export const errorBody = (job: Job) => {
  const cancelled = job.status === 'cancelled';
  const message = job.error?.message || (cancelled ? 'Job abgebrochen' : 'Job fehlgeschlagen');
  return {
    phase: 'error',
    status: cancelled ? 'cancelled' : 'failed',
    message,
    ...head(job),
    error: {
      code: job.error?.code || (cancelled ? 'CANCELLED' : 'HANDLER_ERROR'),
      message,
      ...(job.error?.details ? { details: job.error.details } : {}),
    },
    data: null,
  };
};

/** The callback body for a job in its current state. */
export const callbackBody = (job: Job, kind: CallbackKind, ctx: PayloadContext, progress?: JobProgress | null) => {
  if (kind === 'progress') return progressBody(job, progress ?? job.progress);
  if (kind === 'completed') return completedBody(job, ctx);
  return errorBody(job);
};

/** The body of a batch's callback (sent once when the batch reaches a terminal state). */
export const batchBody = (batch: Batch) => {
  const done = batch.status === 'completed';
  const counts = {
    total_jobs: batch.total_jobs,
    pending_jobs: batch.pending_jobs,
    processing_jobs: batch.processing_jobs,
    completed_jobs: batch.completed_jobs,
    failed_jobs: batch.failed_jobs,
    cancelled_jobs: batch.cancelled_jobs,
  };
  const message = done
    ? `Batch abgeschlossen (${batch.completed_jobs}/${batch.total_jobs})`
    : batch.status === 'cancelled'
      ? `Batch abgebrochen (${batch.cancelled_jobs}/${batch.total_jobs} abgebrochen)`
      : `Batch fehlgeschlagen (${batch.failed_jobs}/${batch.total_jobs} fehlgeschlagen)`;
  return {
    phase: done ? 'completed' : 'error',
    status: batch.status,
    message,
    process: { id: batch.batch_id, main_processor: 'batch' },
    batch: { id: batch.batch_id, name: batch.batch_name, status: batch.status, ...counts, completed_at: batch.completed_at },
    ...(done
      ? {}
      : { error: { code: batch.status === 'cancelled' ? 'CANCELLED' : 'HANDLER_ERROR', message } }),
  };
};
