/**
 * How jobs and batches leave the API: secrets redacted (webhook token and headers, also a
 * webhook or callback token inside `parameters`), internal lease fields dropped, and for a
 * completed job the webhook-shaped callback fields merged into `results` (never replacing a
 * stored key), so a client that polls instead of receiving the callback reads the same data.
 */
import type { Batch, Job, WebhookConfig } from '../core/job.js';
import type { DeliveryAttempt } from '../store/job-store.js';
import { completedData, type PayloadContext } from '../webhooks/payloads.js';

const REDACTED = '[redacted]';

const stripUserInfo = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');

export const publicWebhook = (w: WebhookConfig | null): Record<string, unknown> | null =>
  w
    ? {
        url: stripUserInfo(w.url),
        token: w.token ? REDACTED : null,
        headers: w.headers ? Object.fromEntries(Object.keys(w.headers).map((k) => [k, REDACTED])) : null,
        ...(w.include_markdown !== undefined ? { include_markdown: w.include_markdown } : {}),
        ...(w.include_metadata !== undefined ? { include_metadata: w.include_metadata } : {}),
        ...(w.delivery ? { delivery: w.delivery } : {}),
      }
    : null;

const SECRET_PARAM_KEYS = new Set(['callback_token', 'token', 'api_key', 'apikey', 'password', 'authorization']);

/** Redacts secrets in parameters (a copy; the stored parameters are untouched). */
export const publicParameters = (params: Record<string, unknown>): Record<string, unknown> => {
  let out: Record<string, unknown> | null = null;
  const set = (k: string, v: unknown): void => {
    out ??= { ...params };
    out[k] = v;
  };
  for (const [k, v] of Object.entries(params)) {
    if (SECRET_PARAM_KEYS.has(k.toLowerCase()) && v !== null && v !== undefined && v !== '') set(k, REDACTED);
    else if (k === 'webhook' && v && typeof v === 'object' && !Array.isArray(v)) set(k, publicWebhook(v as WebhookConfig));
  }
  return out ?? params;
};

export interface JobViewOptions {
  payload: PayloadContext;
  /** Include `logs` (single-job view) — lists leave them out. */
  logs?: boolean;
  deliveries?: DeliveryAttempt[];
}

export const publicJob = (job: Job, opts: JobViewOptions): Record<string, unknown> => {
  const { webhook, parameters, results, logs, ...rest } = job as Job & { lease_token?: unknown };
  delete (rest as Record<string, unknown>).lease_token;
  let shownResults = results;
  if (job.status === 'completed' && results) {
    try {
      shownResults = { ...completedData(job, opts.payload), ...results };
    } catch {
      shownResults = results;
    }
  }
  return {
    ...rest,
    parameters: publicParameters(parameters ?? {}),
    webhook: publicWebhook(webhook),
    results: shownResults,
    ...(opts.logs === false ? {} : { logs }),
    ...(opts.deliveries ? { webhook_deliveries: opts.deliveries } : {}),
  };
};

export const publicBatch = (batch: Batch): Record<string, unknown> => ({ ...batch, webhook: publicWebhook(batch.webhook) });

/** The seeds' enqueue envelope. */
export const enqueueEnvelope = (processId: string, jobCount: number, data: Record<string, unknown>) => ({
  status: 'success' as const,
  request: { processor: 'job-enqueue', timestamp: new Date().toISOString(), parameters: { job_count: jobCount } },
  process: {
    id: processId,
    main_processor: 'SecretaryJobWorker',
    started: new Date().toISOString(),
    llm_info: { requests: [] as unknown[] },
  },
  data,
});
