/**
 * SSE progress streams, pushed from store events (not polled):
 * `GET /api/jobs/{id}/stream` — events `pending`, `progress`, then one terminal `completed`
 * (callback-shaped data, `completedBody`) or `error` (failed/cancelled), then the stream
 * closes. Event ids are the job's `version`; a client reconnecting with `Last-Event-ID` gets
 * the current state only if it changed since. No time cap.
 * `GET /api/batches/{id}/stream` — `batch` snapshots (id: the batch's `updated_at` in ms),
 * `job` events for its jobs, then `completed` or `error` when the batch ends.
 * Stores without cross-process events are re-checked every few seconds as a fallback, so a
 * worker in another process is still seen.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { isTerminal, type Batch, type Job } from '../../core/job.js';
import { completedBody, errorBody, progressBody } from '../../webhooks/payloads.js';
import type { RouteOptions } from '../api-deps.js';
import { publicBatch } from '../job-view.js';
import { lastEventId, type EventStream } from '../plugins/sse.js';
import { JobIdParams } from '../schemas.js';
import { loadBatch } from './batches.js';
import { loadJob } from './jobs.js';

const StreamQuery = Type.Object({
  access_token: Type.Optional(Type.String({ maxLength: 4096, description: 'API key for browsers (EventSource cannot send headers).' })),
  last_event_id: Type.Optional(Type.String({ maxLength: 20, description: 'Alternative to the Last-Event-ID header.' })),
});

/** Re-check interval for stores whose events do not cross processes. */
const FALLBACK_MS = 2000;

/** Runs `fn` at most once at a time; calls during a run cause one more run afterwards. */
const coalesce = (fn: () => Promise<void>, onError: (err: unknown) => void): (() => void) => {
  let running = false;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    fn()
      .catch(onError)
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          run();
        }
      });
  };
  return run;
};

export const jobEvent = (job: Job, opts: RouteOptions): { name: string; data: unknown } => {
  const head = { process: { id: job.job_id, main_processor: job.job_type }, job: { id: job.job_id, external_id: job.external_id } };
  switch (job.status) {
    case 'pending':
      return { name: 'pending', data: { phase: 'pending', status: 'pending', message: 'waiting for a worker', progress: 0, ...head, data: { progress: 0 } } };
    case 'processing': {
      const body = progressBody(job, job.progress);
      return { name: 'progress', data: { ...body, status: 'processing', data: { progress: body.progress } } };
    }
    case 'completed':
      return { name: 'completed', data: completedBody(job, opts.payload) };
    default:
      return { name: 'error', data: errorBody(job) };
  }
};

export const streamRoutes = async (root: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { store, config } = opts.deps;
  const heartbeatMs = config.server.sse_heartbeat_sec * 1000;

  const watch = (stream: EventStream, check: () => void, matches: (e: Parameters<Parameters<typeof store.subscribe>[0]>[0]) => boolean) => {
    const unsubscribe = store.subscribe((e) => {
      if (matches(e)) check();
    });
    const timer = store.capabilities.crossProcessEvents ? null : setInterval(check, FALLBACK_MS);
    timer?.unref();
    stream.onClose(() => {
      unsubscribe();
      if (timer) clearInterval(timer);
    });
  };

  app.get(
    '/api/jobs/:id/stream',
    { schema: { tags: ['streams'], summary: 'Server-Sent Events of one job until it ends', params: JobIdParams, querystring: StreamQuery } },
    async (req, reply) => {
      const job = await loadJob(opts, req.principal, req.params.id, reply);
      if (!job) return reply;
      const last = lastEventId(req);
      const stream = app.sse.open(req, reply, { heartbeatMs });
      let sent = last ?? 0;
      const emit = (j: Job): void => {
        const ev = jobEvent(j, opts);
        stream.send(ev.name, ev.data, j.version);
        sent = j.version;
      };
      const refresh = async (): Promise<void> => {
        if (stream.closed) return;
        const j = await store.getJob(job.job_id);
        if (stream.closed) return;
        if (!j) {
          stream.send('error', { phase: 'error', message: 'the job was deleted', job: { id: job.job_id }, process: { id: job.job_id }, error: { code: 'NOT_FOUND', message: 'the job was deleted' } });
          stream.close();
          return;
        }
        if (j.version > sent || (last === null && sent === 0)) emit(j);
        if (isTerminal(j.status)) stream.close();
      };
      const check = coalesce(refresh, (err) => req.log.warn({ err, job_id: job.job_id }, 'sse refresh failed'));
      watch(stream, check, (e) => e.type === 'job' && e.change.job_id === job.job_id && e.change.version > sent);
      if (job.version > sent || last === null) emit(job);
      if (isTerminal(job.status)) stream.close();
      else check();
      return reply;
    },
  );

  app.get(
    '/api/batches/:id/stream',
    { schema: { tags: ['streams'], summary: 'Server-Sent Events of a batch until it ends', params: JobIdParams, querystring: StreamQuery } },
    async (req, reply) => {
      const batch = await loadBatch(opts, req.principal, req.params.id, reply);
      if (!batch) return reply;
      const last = lastEventId(req);
      const stream = app.sse.open(req, reply, { heartbeatMs });
      let sentKey = '';
      const key = (b: Batch): string =>
        [b.status, b.pending_jobs, b.processing_jobs, b.completed_jobs, b.failed_jobs, b.cancelled_jobs, b.updated_at].join('|');
      const emit = (b: Batch): void => {
        const id = Date.parse(b.updated_at) || Date.now();
        sentKey = key(b);
        if (last !== null && id <= last && !isTerminal(b.status)) return;
        stream.send('batch', { phase: b.status, batch: publicBatch(b) }, id);
        if (b.status === 'completed') stream.send('completed', { phase: 'completed', status: 'completed', batch: publicBatch(b) }, id);
        else if (isTerminal(b.status)) {
          const message = `batch ended ${b.status}: ${b.failed_jobs} failed, ${b.cancelled_jobs} cancelled`;
          stream.send('error', { phase: 'error', status: b.status, message, batch: publicBatch(b), error: { code: b.status === 'failed' ? 'HANDLER_ERROR' : 'CANCELLED', message } }, id);
        }
        if (isTerminal(b.status)) stream.close();
      };
      const refresh = async (): Promise<void> => {
        if (stream.closed) return;
        const b = await store.getBatch(batch.batch_id);
        if (stream.closed) return;
        if (!b) {
          stream.send('error', { phase: 'error', message: 'the batch was deleted', error: { code: 'NOT_FOUND', message: 'the batch was deleted' } });
          stream.close();
          return;
        }
        if (key(b) !== sentKey) emit(b);
      };
      const check = coalesce(refresh, (err) => req.log.warn({ err, batch_id: batch.batch_id }, 'sse refresh failed'));
      const unsubscribe = store.subscribe((e) => {
        if (e.type === 'job' && e.change.batch_id === batch.batch_id && !stream.closed) {
          const c = e.change;
          stream.send('job', { job: { id: c.job_id }, job_type: c.job_type, status: c.status, progress: c.progress?.percent ?? 0, step: c.progress?.step ?? null });
        }
      });
      stream.onClose(unsubscribe);
      watch(stream, check, (e) => (e.type === 'batch' && e.batch_id === batch.batch_id) || (e.type === 'job' && e.change.batch_id === batch.batch_id));
      emit(batch);
      if (!stream.closed) check();
      return reply;
    },
  );
};
