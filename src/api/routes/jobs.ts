/**
 * The job API: enqueue (idempotent on `external_id`), list with filters and cursors, read
 * (logs, progress, webhook deliveries; secrets redacted), cancel, retry, delete.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { JOB_STATUSES, type Job, type JobStatus } from '../../core/job.js';
import { guardOf, type Principal, type RouteOptions } from '../api-deps.js';
import { canRead, canWrite, visibleTo } from '../access.js';
import { parseJobInput } from '../job-input.js';
import { enqueueEnvelope, publicJob } from '../job-view.js';
import { sendError } from '../reply-error.js';
import { JobBody, JobIdParams, PageQuery } from '../schemas.js';

const ListQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 200, description: 'One status or a comma list.' })),
  job_type: Type.Optional(Type.String({ maxLength: 64 })),
  batch_id: Type.Optional(Type.String({ maxLength: 200 })),
  user_id: Type.Optional(Type.String({ maxLength: 200 })),
  external_id: Type.Optional(Type.String({ maxLength: 200 })),
  ...PageQuery,
});

const CancelBody = Type.Union([Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }), Type.Null()]);

/** Loads a job the principal may read; answers 404 otherwise (also for others' jobs). */
export const loadJob = async (
  opts: RouteOptions,
  principal: Principal,
  id: string,
  reply: FastifyReply,
  mode: 'read' | 'write' = 'read',
): Promise<Job | null> => {
  const job = await opts.deps.store.getJob(id);
  if (!job || !(mode === 'read' ? canRead(principal, job) : canWrite(principal, job))) {
    sendError(reply, 'NOT_FOUND', `job not found: ${id.slice(0, 200)}`);
    return null;
  }
  return job;
};

export const parseStatuses = (raw: string | undefined, reply: FastifyReply): JobStatus[] | undefined | null => {
  if (!raw) return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((s) => !(JOB_STATUSES as readonly string[]).includes(s));
  if (bad !== undefined) {
    sendError(reply, 'INVALID_PARAMETERS', `unknown status ${JSON.stringify(bad.slice(0, 50))}`, [
      { path: '/querystring/status', problem: `must be one of ${JOB_STATUSES.join(', ')}` },
    ]);
    return null;
  }
  return list as JobStatus[];
};

export const jobRoutes = async (root: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { store, registry, config } = opts.deps;
  const view = (job: Job, extra: { logs?: boolean; deliveries?: Awaited<ReturnType<typeof store.getDeliveries>> } = {}) =>
    publicJob(job, { payload: opts.payload, logs: extra.logs ?? true, deliveries: extra.deliveries });

  app.post(
    '/api/jobs',
    { schema: { tags: ['jobs'], summary: 'Enqueue one job (202; 200 with created:false for a known external_id)', body: JobBody } },
    async (req: FastifyRequest, reply) => {
      const parsed = parseJobInput(req.body, '', registry, req.principal, guardOf(opts));
      if (!parsed.job) {
        return parsed.unknownType
          ? sendError(reply, 'UNKNOWN_JOB_TYPE', parsed.problems[0]?.problem ?? 'unknown job_type', parsed.problems)
          : sendError(reply, 'INVALID_PARAMETERS', 'the job parameters failed validation', parsed.problems);
      }
      const input = { max_attempts: config.generic_worker.max_attempts, ...parsed.job };
      if (input.batch_id) {
        const batch = await store.getBatch(input.batch_id);
        if (!batch || !canWrite(req.principal, batch)) {
          return sendError(reply, 'INVALID_PARAMETERS', 'no such batch', [{ path: '/batch_id', problem: 'no batch with this id' }]);
        }
      }
      if (input.external_id) {
        const existing = await store.getJobByExternalId(input.external_id);
        if (existing && !canRead(req.principal, existing)) {
          return sendError(reply, 'DUPLICATE_EXTERNAL_ID', 'this external_id is taken');
        }
      }
      const { job, created } = await store.createJob(input);
      if (!created && !canRead(req.principal, job)) return sendError(reply, 'DUPLICATE_EXTERNAL_ID', 'this external_id is taken');
      const body = enqueueEnvelope(job.job_id, 1, {
        job_id: job.job_id,
        job_ids: [job.job_id],
        external_id: job.external_id,
        created,
        job: view(job),
      });
      return reply.code(created ? 202 : 200).send(body);
    },
  );

  app.get(
    '/api/jobs',
    { schema: { tags: ['jobs'], summary: 'List jobs (newest first) with filters and cursor pagination', querystring: ListQuery } },
    async (req, reply) => {
      const q = req.query;
      const status = parseStatuses(q.status, reply);
      if (status === null) return reply;
      const page = await store.listJobs(
        {
          status,
          job_type: q.job_type,
          batch_id: q.batch_id,
          user_id: q.user_id,
          external_id: q.external_id,
          visible_to: visibleTo(req.principal),
        },
        { limit: q.limit, cursor: q.cursor ?? null },
      );
      return {
        status: 'success',
        data: { jobs: page.items.map((j) => view(j, { logs: false })), count: page.items.length, next_cursor: page.next_cursor },
      };
    },
  );

  app.get(
    '/api/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'One job with progress, results, error, logs and webhook deliveries', params: JobIdParams } },
    async (req, reply) => {
      const job = await loadJob(opts, req.principal, req.params.id, reply);
      if (!job) return reply;
      const deliveries = job.webhook ? await store.getDeliveries(job.job_id) : [];
      return { status: 'success', data: view(job, { deliveries }) };
    },
  );

  app.post(
    '/api/jobs/:id/cancel',
    { schema: { tags: ['jobs'], summary: 'Cancel a pending or running job (409 when already finished)', params: JobIdParams, body: Type.Optional(CancelBody) } },
    async (req, reply) => {
      const job = await loadJob(opts, req.principal, req.params.id, reply, 'write');
      if (!job) return reply;
      const reason = (req.body as { reason?: string } | null | undefined)?.reason;
      const r = await store.cancelJob(job.job_id, reason);
      if (r.outcome === 'not_found') return sendError(reply, 'NOT_FOUND', 'job not found');
      if (r.outcome === 'already_terminal') return sendError(reply, 'CONFLICT', `job is already ${r.job.status}`);
      return { status: 'success', data: view(r.job) };
    },
  );

  app.post(
    '/api/jobs/:id/retry',
    { schema: { tags: ['jobs'], summary: 'Run a failed or cancelled job again (409 otherwise)', params: JobIdParams } },
    async (req, reply) => {
      const job = await loadJob(opts, req.principal, req.params.id, reply, 'write');
      if (!job) return reply;
      const r = await store.retryJob(job.job_id);
      if (r.outcome === 'not_found') return sendError(reply, 'NOT_FOUND', 'job not found');
      if (r.outcome === 'not_retryable') return sendError(reply, 'CONFLICT', `a ${r.job.status} job cannot be retried; only failed or cancelled jobs`);
      return { status: 'success', data: view(r.job) };
    },
  );

  app.delete(
    '/api/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'Delete a job that is not running (409 while running: cancel first)', params: JobIdParams } },
    async (req, reply) => {
      const job = await loadJob(opts, req.principal, req.params.id, reply, 'write');
      if (!job) return reply;
      const r = await store.deleteJob(job.job_id);
      if (r === 'not_found') return sendError(reply, 'NOT_FOUND', 'job not found');
      if (r === 'running') return sendError(reply, 'CONFLICT', 'the job is running; cancel it first');
      return { status: 'success', data: { job_id: job.job_id, deleted: true } };
    },
  );
};
