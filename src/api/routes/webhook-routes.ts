/**
 * Webhook routes: `POST /api/jobs/:id/webhook/redeliver` queues the job's terminal callback
 * again (a new outbox record with a new event id; the dispatcher sends it after anything the
 * job still has queued). Answers 202 `{status:'accepted', data:{job_id, event_id, kind}}`;
 * 404 unknown (or unreadable) job; 403 readable but not writable; 409 job not terminal;
 * 400 `WEBHOOK_NOT_CONFIGURED` when the job has no webhook.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isTerminal } from '../../core/job.js';
import { canRead, canWrite } from '../access.js';
import type { Principal, RouteOptions } from '../api-deps.js';
import { sendError } from '../reply-error.js';

const ADMIN: Principal = { user_id: null, admin: true };

/** The auth plugin sets `request.principal`; without it (tests without auth) the caller is admin. */
const principalOf = (req: FastifyRequest): Principal => (req as FastifyRequest & { principal?: Principal | null }).principal ?? ADMIN;

export const webhookRoutes = async (app: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const { store } = opts.deps;
  app.post<{ Params: { id: string } }>(
    '/api/jobs/:id/webhook/redeliver',
    {
      schema: {
        tags: ['jobs'],
        summary: "Send the job's terminal webhook again",
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['id'] },
      },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      const job = await store.getJob(req.params.id);
      if (!job || !canRead(principal, job)) return sendError(reply, 'NOT_FOUND', `job ${req.params.id} not found`);
      if (!canWrite(principal, job)) return sendError(reply, 'FORBIDDEN', 'this key may not change this job');
      if (!job.webhook) return sendError(reply, 'WEBHOOK_NOT_CONFIGURED', 'the job has no webhook to redeliver');
      if (!isTerminal(job.status)) {
        return sendError(reply, 'CONFLICT', `the job is ${job.status}; only a completed, failed or cancelled job can be redelivered`);
      }
      const record = await store.redeliver(job.job_id);
      if (!record) return sendError(reply, 'CONFLICT', 'the job changed meanwhile; nothing to redeliver');
      return reply.code(202).send({
        status: 'accepted',
        data: { job_id: job.job_id, event_id: record.event_id, kind: record.kind, status: record.status },
      });
    },
  );
};
