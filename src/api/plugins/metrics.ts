/** `GET /metrics` (Prometheus text format). Protected by the API key like the rest of the API. */
import type { FastifyInstance } from 'fastify';
import type { JobStore } from '../../store/job-store.js';
import type { ApiMetrics } from '../metrics.js';

export interface MetricsOptions {
  metrics: ApiMetrics;
  store: JobStore;
}

export const metricsPlugin = async (app: FastifyInstance, opts: MetricsOptions): Promise<void> => {
  opts.metrics.attachStore(opts.store);
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    const { contentType, body } = await opts.metrics.render();
    return reply.type(contentType).send(body);
  });
};
