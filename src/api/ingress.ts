/**
 * The original's ingress endpoints create a job and answer at once (202 ACK, original §3.1),
 * with the internal job id always present. `wait_ms` (and the endpoints that used to be
 * synchronous) wait for the job through store events — never by blocking the server — and
 * answer 200 with the result envelope, 400 with the job's error, or the 202 ACK on timeout.
 */
import { rm } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, SecretaryError, isErrorCode } from '../core/errors.js';
import { isTerminal, type Job, type NewJob } from '../core/job.js';
import { validateWebhookUrl } from '../net/url-guard.js';
import { completedData } from '../webhooks/payloads.js';
import type { RouteOptions } from './api-deps.js';
import type { IngressForm } from './multipart-form.js';
import { intField } from './multipart-form.js';
import { sendError } from './reply-error.js';

/** The stored upload of an ingress request, or a 400 naming the multipart field to send. */
export const requireUpload = (form: IngressForm): NonNullable<IngressForm['upload']> => {
  if (!form.upload) {
    throw new SecretaryError(
      'INVALID_PARAMETERS',
      'no file uploaded: send the document as multipart field `file`',
      {
        details: [{ path: '/file', problem: 'required' }],
      },
    );
  }
  return form.upload;
};

/** Runs the request; a stored upload is removed again when anything fails. */
export const removeUploadOnError = async <T>(
  form: IngressForm,
  fn: () => Promise<T>,
): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (form.upload) await rm(form.upload.path, { force: true });
    throw err;
  }
};

/** The webhook and external id from the original's form fields. */
export const webhookFromFields = (
  opts: RouteOptions,
  fields: Record<string, string>,
): Pick<NewJob, 'webhook' | 'external_id'> => {
  const url = fields.callback_url?.trim();
  const { config } = opts.deps;
  if (url) {
    try {
      validateWebhookUrl(url, {
        allowPrivate: config.security.allow_private_urls,
        allowlist: config.security.url_allowlist,
      });
    } catch (err) {
      const e = err as SecretaryError;
      throw new SecretaryError(e.code ?? 'URL_NOT_ALLOWED', `callback_url: ${e.message}`, {
        details: [{ path: '/callback_url', problem: e.message }],
      });
    }
  }
  const external = fields.jobId?.trim() || null;
  return {
    webhook: url ? { url, token: fields.callback_token || null } : null,
    external_id: external,
  };
};

export const ackBody = (job: Job, processor: string, webhookUrl: string | null) => ({
  status: 'accepted',
  worker: 'secretary',
  process: {
    id: job.job_id,
    main_processor: processor,
    started: job.created_at,
    is_from_cache: false,
  },
  job: { id: job.job_id, external_id: job.external_id },
  webhook: webhookUrl ? { delivered_to: webhookUrl } : null,
  error: null,
  data: { job_id: job.job_id, status: job.status },
});

/** Resolves when the job is terminal or the time is up (event-driven, plus a slow re-check). */
export const waitForTerminal = async (
  opts: RouteOptions,
  jobId: string,
  ms: number,
  signal: AbortSignal,
): Promise<Job | null> => {
  const { store } = opts.deps;
  const first = await store.getJob(jobId);
  if (!first || isTerminal(first.status) || ms <= 0) return first;
  return new Promise<Job | null>((resolve) => {
    let done = false;
    const finish = async () => {
      if (done) return;
      done = true;
      unsubscribe();
      clearTimeout(timer);
      clearInterval(poll);
      signal.removeEventListener('abort', finish);
      resolve(await store.getJob(jobId));
    };
    const unsubscribe = store.subscribe((e) => {
      if (e.type === 'job' && e.change.job_id === jobId && isTerminal(e.change.status))
        void finish();
    });
    const timer = setTimeout(() => void finish(), ms);
    const poll = setInterval(() => {
      void store.getJob(jobId).then((j) => {
        if (j && isTerminal(j.status)) void finish();
      });
    }, 2000);
    signal.addEventListener('abort', finish, { once: true });
  });
};

export interface IngressSpec {
  processor: string;
  /** Wait by default (for endpoints that were synchronous in the original). */
  defaultWaitMs?: number;
}

/** Creates the job and answers (202, or the waited result). */
export const submitIngressJob = async (
  opts: RouteOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  form: IngressForm,
  input: NewJob,
  spec: IngressSpec,
): Promise<FastifyReply> => {
  const { store, config } = opts.deps;
  // a failure here removes the upload in the route (`removeUploadOnError`)
  const problems = opts.deps.registry.validate(input.job_type, input.parameters ?? {});
  if (problems.length)
    throw new SecretaryError('INVALID_PARAMETERS', 'invalid parameters', { details: problems });
  const created = await store.createJob({ ...input, user_id: req.principal?.user_id ?? null });
  const job = created.job;
  // the same external id again: the first job keeps its own upload, this one is not needed
  if (!created.created && form.upload) await rm(form.upload.path, { force: true });
  const webhookUrl = input.webhook?.url ?? null;
  const requested =
    intField(form.fields, 'wait_ms') ?? (webhookUrl ? 0 : (spec.defaultWaitMs ?? 0));
  const waitMs = Math.min(requested, config.server.max_wait_ms);
  if (waitMs > 0 && !webhookUrl) {
    return answerWhenDone(opts, req, reply, job, {
      waitMs,
      processor: spec.processor,
      success: (done) => resultEnvelope(opts, done, spec.processor),
    });
  }
  return reply.code(202).send(ackBody(job, spec.processor, webhookUrl));
};

/** The HTTP status of a failed job's synchronous answer: its code's own 4xx, else 400. */
export const failureStatus = (code: string): number => {
  const s = isErrorCode(code) ? ERROR_CODES[code].status : 400;
  return s >= 400 && s < 500 ? s : 400;
};

/**
 * Waits for the job to end (store events; the server is never blocked) and answers: 200 with
 * `success(job)`, the job's error as a 4xx `{status: "error", error}`, or the 202 ACK when the
 * time is up or the client went away.
 */
export const answerWhenDone = async (
  opts: RouteOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  job: Job,
  o: { waitMs: number; processor: string; success: (done: Job) => unknown },
): Promise<FastifyReply> => {
  const ac = new AbortController();
  req.raw.once('close', () => ac.abort());
  // waiting for the job is not receiving a submission: the worker must not hold claims for it
  req.leaveIngress?.();
  const done = await waitForTerminal(opts, job.job_id, o.waitMs, ac.signal);
  if (done?.status === 'completed') return reply.code(200).send(await o.success(done));
  if (done && isTerminal(done.status)) {
    const code =
      done.error?.code && isErrorCode(done.error.code) ? done.error.code : 'HANDLER_ERROR';
    return sendError(
      reply,
      code,
      done.error?.message ?? 'the job failed',
      { job_id: done.job_id, ...(done.error?.details ?? {}) },
      failureStatus(code),
    );
  }
  return reply.code(202).send(ackBody(done ?? job, o.processor, null));
};

/** The original's synchronous answer: the processor envelope with webhook-shaped `data`. */
export const resultEnvelope = (opts: RouteOptions, job: Job, processor: string) => {
  const results = (job.results ?? {}) as Record<string, unknown>;
  const sd = (results.structured_data ?? {}) as Record<string, unknown>;
  const data = {
    ...((sd.data as Record<string, unknown>) ?? {}),
    ...completedData(job, opts.payload),
    job_id: job.job_id,
  };
  return {
    status: 'success',
    request: sd.request ?? { processor, timestamp: job.created_at },
    process: {
      ...((sd.process as object) ?? {}),
      id: job.job_id,
      llm_info: job.llm_info ?? { requests: [] },
    },
    error: null,
    data,
  };
};
