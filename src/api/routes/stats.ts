/**
 * `GET /api/stats?minutes=15`: queue depth now and over time, jobs ended per minute, the
 * webhook outbox and this process's worker — what the dashboard header shows. Counts are
 * store-wide (like `/metrics`, which any valid key may read too); the history is kept in
 * memory by this process (`ActivityTracker`) and starts when it starts.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { RouteOptions } from '../api-deps.js';
import { ActivityTracker, countByStatus } from '../activity-tracker.js';

const StatsQuery = Type.Object({
  minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, description: 'History window in minutes. Default 15.' })),
});

export interface StatsRouteOptions extends RouteOptions {
  /** Queue sample interval; default 15000 ms (tests use less). */
  sampleMs?: number;
}

export const statsRoutes = async (root: FastifyInstance, opts: StatsRouteOptions): Promise<void> => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { store, config } = opts.deps;
  const tracker = new ActivityTracker(store, {
    ...(opts.sampleMs ? { sampleMs: opts.sampleMs } : {}),
    onError: (err) => app.log.warn({ err }, 'stats sample failed'),
  });
  app.addHook('onReady', async () => tracker.start());
  app.addHook('preClose', async () => tracker.stop());

  app.get(
    '/api/stats',
    { schema: { tags: ['ops'], summary: 'Queue depth, throughput per minute, outbox and worker (dashboard header)', querystring: StatsQuery } },
    async (req) => {
      const stats = await tracker.current();
      const by = countByStatus(stats);
      const worker = opts.deps.worker;
      return {
        status: 'success',
        data: {
          at: new Date().toISOString(),
          store: { name: store.name, cross_process_events: store.capabilities.crossProcessEvents },
          queue: {
            pending: by.pending,
            ready: stats.ready,
            scheduled: Math.max(0, by.pending - stats.ready),
            processing: by.processing,
          },
          totals: by,
          by_type: stats.by_status,
          outbox_pending: stats.outbox_pending,
          worker: worker
            ? { id: worker.workerId, running_jobs: worker.runningCount, max_concurrent: config.generic_worker.max_concurrent }
            : null,
          series: { sample_sec: tracker.sampleIntervalMs / 1000, bucket_sec: 60, ...tracker.history(req.query.minutes ?? 15) },
        },
      };
    },
  );
};
