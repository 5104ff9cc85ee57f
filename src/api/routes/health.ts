/** `GET /api/health` (store, worker, version, job types) and `GET /api/health/live`; both open. */
import type { FastifyInstance } from 'fastify';
import type { RouteOptions } from '../api-deps.js';
import { VERSION } from '../version.js';

export const healthRoutes = async (app: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const { store, registry } = opts.deps;
  app.get('/api/health', { schema: { tags: ['ops'], summary: 'Health: store, worker, version, job types' } }, async () => {
    const worker = opts.deps.worker;
    return {
      status: 'ok',
      store: store.name,
      worker: worker ? { running: true, id: worker.workerId, running_jobs: worker.runningCount } : null,
      version: VERSION,
      job_types: registry.types(),
    };
  });
  app.get('/api/health/live', { schema: { tags: ['ops'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));
};
