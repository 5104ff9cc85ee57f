/**
 * Batches: create (`POST /api/jobs/batch`, `POST /api/batches`; body flat or wrapped in
 * `batch`), validated as a whole (one bad job → 400, nothing stored), list, read (aliases
 * `/api/batch/{id}` and `/api/jobs/batch/{id}`), and the batch's jobs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BATCH_STATUSES, type Batch, type BatchStatus, type NewJob } from '../../core/job.js';
import type { ParameterProblem } from '../../worker/registry.js';
import { guardOf, type Principal, type RouteOptions } from '../api-deps.js';
import { canRead, visibleTo } from '../access.js';
import { parseJobInput, parseWebhook } from '../job-input.js';
import { enqueueEnvelope, publicBatch, publicJob } from '../job-view.js';
import { sendError } from '../reply-error.js';
import { BatchBody, JobIdParams, PageQuery } from '../schemas.js';
import { parseStatuses } from './jobs.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const loadBatch = async (opts: RouteOptions, principal: Principal, id: string, reply: FastifyReply): Promise<Batch | null> => {
  const batch = await opts.deps.store.getBatch(id);
  if (!batch || !canRead(principal, batch)) {
    sendError(reply, 'NOT_FOUND', `batch not found: ${id.slice(0, 200)}`);
    return null;
  }
  return batch;
};

export const batchRoutes = async (root: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { store, registry, config } = opts.deps;

  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body as Obj;
    const b = isObj(body.batch) ? body.batch : body;
    const rawJobs = b.jobs;
    if (!Array.isArray(rawJobs)) {
      return sendError(reply, 'INVALID_PARAMETERS', 'a batch needs a `jobs` array', [{ path: '/jobs', problem: 'required: an array of jobs' }]);
    }
    const problems: ParameterProblem[] = [];
    let unknownType = false;
    const jobs: NewJob[] = [];
    rawJobs.forEach((raw, i) => {
      const r = parseJobInput(raw, `/jobs/${i}`, registry, req.principal, guardOf(opts));
      if (r.job) jobs.push({ max_attempts: config.generic_worker.max_attempts, ...r.job, batch_id: null });
      else if (problems.length < 50) problems.push(...r.problems);
      unknownType ||= r.unknownType;
    });
    const userId = typeof b.user_id === 'string' && b.user_id ? b.user_id.slice(0, 200) : null;
    const webhook = parseWebhook(b.webhook, '/webhook', problems, guardOf(opts));
    if (problems.length > 0) {
      return unknownType
        ? sendError(reply, 'UNKNOWN_JOB_TYPE', 'the batch names an unregistered job_type; nothing was stored', problems)
        : sendError(reply, 'INVALID_PARAMETERS', 'the batch failed validation; nothing was stored', problems);
    }
    const owner = req.principal.admin ? userId : req.principal.user_id;
    const { batch, jobs: created } = await store.createBatch({
      batch_name: typeof b.batch_name === 'string' ? b.batch_name : null,
      jobs: jobs.map((j) => ({ ...j, user_id: j.user_id ?? owner })),
      user_id: owner,
      webhook,
    });
    const jobIds = created.map((j) => j.job_id);
    return reply.code(202).send(
      enqueueEnvelope(batch.batch_id, created.length, { batch_id: batch.batch_id, job_ids: jobIds, batch: publicBatch(batch) }),
    );
  };
  const createSchema = { tags: ['batches'], summary: 'Enqueue a batch of jobs (all or nothing)', body: BatchBody };
  app.post('/api/jobs/batch', { schema: createSchema }, create);
  app.post('/api/batches', { schema: createSchema }, create);

  const ListQuery = Type.Object({
    status: Type.Optional(Type.String({ maxLength: 200 })),
    user_id: Type.Optional(Type.String({ maxLength: 200 })),
    ...PageQuery,
  });
  app.get('/api/batches', { schema: { tags: ['batches'], summary: 'List batches (newest first)', querystring: ListQuery } }, async (req, reply) => {
    const q = req.query;
    let status: BatchStatus[] | undefined;
    if (q.status) {
      const list = q.status.split(',').map((s) => s.trim()).filter(Boolean);
      if (list.some((s) => !(BATCH_STATUSES as readonly string[]).includes(s))) {
        return sendError(reply, 'INVALID_PARAMETERS', 'unknown batch status', [
          { path: '/querystring/status', problem: `must be one of ${BATCH_STATUSES.join(', ')}` },
        ]);
      }
      status = list as BatchStatus[];
    }
    const filter = { status, visible_to: visibleTo(req.principal), ...(q.user_id ? { user_id: q.user_id } : {}) };
    const page = await store.listBatches(filter, { limit: q.limit, cursor: q.cursor ?? null });
    return { status: 'success', data: { batches: page.items.map(publicBatch), count: page.items.length, next_cursor: page.next_cursor } };
  });

  const getOne = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const batch = await loadBatch(opts, req.principal, req.params.id, reply);
    if (!batch) return reply;
    return { status: 'success', data: { ...publicBatch(batch), llm_info: await store.batchUsage(batch.batch_id) } };
  };
  const oneSchema = {
    tags: ['batches'],
    summary: 'One batch with its counters and the summed model usage of its jobs (`llm_info`)',
    params: JobIdParams,
  };
  app.get('/api/batches/:id', { schema: oneSchema }, getOne);
  app.get('/api/batch/:id', { schema: { ...oneSchema, summary: 'Alias of GET /api/batches/{id}' } }, getOne);
  app.get('/api/jobs/batch/:id', { schema: { ...oneSchema, summary: 'Alias of GET /api/batches/{id}' } }, getOne);

  const JobsQuery = Type.Object({ status: Type.Optional(Type.String({ maxLength: 200 })), ...PageQuery });
  app.get(
    '/api/batches/:id/jobs',
    { schema: { tags: ['batches'], summary: "The batch's jobs (newest first)", params: JobIdParams, querystring: JobsQuery } },
    async (req, reply) => {
      const batch = await loadBatch(opts, req.principal, req.params.id, reply);
      if (!batch) return reply;
      const status = parseStatuses(req.query.status, reply);
      if (status === null) return reply;
      const page = await store.listJobs(
        { batch_id: batch.batch_id, status, visible_to: visibleTo(req.principal) },
        { limit: req.query.limit, cursor: req.query.cursor ?? null },
      );
      return {
        status: 'success',
        data: {
          batch_id: batch.batch_id,
          jobs: page.items.map((j) => publicJob(j, { payload: opts.payload, logs: false })),
          count: page.items.length,
          next_cursor: page.next_cursor,
        },
      };
    },
  );
};
