/**
 * Callback bodies, shared by webhooks and SSE, shaped as the real client reads them
 * (reference/client-contract.md §3): every body has `phase`, `message`, `process.id` = job id
 * and `job: {id, external_id}`; progress carries a numeric `progress` and no result fields;
 * `completed` carries the job type's `data`; errors carry a non-empty `error: {code, message}`.
 */
import type { Job, JobProgress } from '../core/job.js';
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

export const progressBody = (job: Job, progress: JobProgress | null) => ({
  phase: progress?.step && !['completed', 'failed', 'error'].includes(progress.step) ? progress.step : 'running',
  progress: progress?.percent ?? 0,
  message: progress?.message ?? progress?.step ?? 'processing',
  ...head(job),
});

export const completedData = (job: Job, ctx: PayloadContext): Record<string, unknown> => {
  const def = ctx.registry.get(job.job_type);
  const url = (p: string) => absoluteUrl(ctx.publicBaseUrl, p);
  if (def?.callbackData) return def.callbackData(job, url);
  return { ...(job.results ?? {}) };
};

export const completedBody = (job: Job, ctx: PayloadContext) => ({
  phase: 'completed',
  status: 'completed',
  message: job.progress?.message ?? 'Verarbeitung abgeschlossen',
  progress: 100,
  ...head(job),
  data: completedData(job, ctx),
});

export const errorBody = (job: Job) => ({
  phase: 'error',
  status: job.status === 'cancelled' ? 'cancelled' : 'failed',
  message: job.error?.message || (job.status === 'cancelled' ? 'cancelled' : 'failed'),
  ...head(job),
  error: {
    code: job.error?.code || (job.status === 'cancelled' ? 'CANCELLED' : 'HANDLER_ERROR'),
    message: job.error?.message || 'the job failed',
    ...(job.error?.details ? { details: job.error.details } : {}),
  },
  data: null,
});

/** The callback body for a job in its current state. */
export const callbackBody = (job: Job, kind: CallbackKind, ctx: PayloadContext, progress?: JobProgress | null) => {
  if (kind === 'progress') return progressBody(job, progress ?? job.progress);
  if (kind === 'completed') return completedBody(job, ctx);
  return errorBody(job);
};
