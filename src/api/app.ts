/**
 * `buildApp(deps)`: the Fastify instance of the API, without listening (`server.ts` does
 * that). Infrastructure is registered as plugins (errors, auth, SSE, OpenAPI, multipart,
 * metrics), then the routes as encapsulated plugins.
 */
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { ApiDeps, RouteOptions } from './api-deps.js';
import { uploadReserveDir, uploadsDir } from '../files/cache-layout.js';
import { UploadReserve } from '../files/upload-reserve.js';
import { ApiMetrics } from './metrics.js';
import { authPlugin } from './plugins/auth.js';
import { errorHandlerPlugin, replyWithError } from './plugins/error-handler.js';
import { metricsPlugin } from './plugins/metrics.js';
import { openapiPlugin } from './plugins/openapi.js';
import { ssePlugin } from './plugins/sse.js';
import { artifactRoutes } from './routes/artifacts.js';
import { batchRoutes } from './routes/batches.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { mediaRoutes } from './routes/media.js';
import { pdfIngressRoutes } from './routes/pdf-ingress.js';
import { officeRoutes } from './routes/office.js';
import { streamRoutes } from './routes/streams.js';
import { webhookRoutes } from './routes/webhook-routes.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { statsRoutes } from './routes/stats.js';
import { transformerRoutes } from './routes/transformer.js';
import { sessionRoutes } from './routes/session.js';

const MB = 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** Ends this request's count in `ApiDeps.ingress` (set on POSTs when it is given). */
    leaveIngress: (() => void) | null;
  }
}

export const buildApp = async (deps: ApiDeps): Promise<FastifyInstance> => {
  const { config } = deps;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: Math.max(1024, Math.floor(config.server.body_limit_mb * MB)),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    return503OnClosing: true,
    frameworkErrors: (err, req, reply) => replyWithError(err, req, reply),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  });
  const routeOpts: RouteOptions = {
    deps,
    payload: { registry: deps.registry, publicBaseUrl: config.server.public_base_url },
  };
  const ingress = deps.ingress;
  if (ingress) {
    // a submission counts from its arrival until it is answered, or until it waits for its job
    app.decorateRequest('leaveIngress', null);
    app.addHook('onRequest', (req, reply, done) => {
      if (req.method === 'POST') {
        const leave = ingress.enter();
        req.leaveIngress = leave;
        reply.raw.once('close', leave);
      }
      done();
    });
  }
  await app.register(errorHandlerPlugin);
  await app.register(authPlugin, { keys: config.auth.api_keys });
  await app.register(ssePlugin);
  await app.register(openapiPlugin);
  const ingressLimits = { fileSize: Math.floor(config.server.upload_limit_mb * MB), files: 20, fields: 200, fieldSize: MB };
  // the plugin accepts multipart bodies (`req.isMultipart()`); ingress routes read them with
  // busboy directly (multipart-reader.ts), under these limits
  await app.register(multipart, { limits: ingressLimits, throwFileSizeLimit: true });
  app.decorate('ingressLimits', ingressLimits);
  if (config.server.upload_reserve > 0) {
    const reserve = new UploadReserve({
      dir: uploadsDir(config.paths.cache_dir),
      reserveDir: uploadReserveDir(config.paths.cache_dir),
      size: config.server.upload_reserve,
      onError: (err) =>
        app.log.warn(
          { err },
          'cannot prepare upload files ahead of time; uploads create their own (check that the cache folder is writable)',
        ),
    });
    app.decorate('uploadReserve', reserve);
    app.addHook('onReady', async () => reserve.start());
    app.addHook('onClose', async () => reserve.close());
  }
  await app.register(metricsPlugin, { metrics: deps.metrics ?? new ApiMetrics(), store: deps.store });
  await app.register(healthRoutes, routeOpts);
  await app.register(jobRoutes, routeOpts);
  await app.register(batchRoutes, routeOpts);
  await app.register(streamRoutes, routeOpts);
  await app.register(artifactRoutes, routeOpts);
  await app.register(webhookRoutes, routeOpts);
  await app.register(pdfIngressRoutes, routeOpts);
  await app.register(mediaRoutes, routeOpts);
  await app.register(officeRoutes, routeOpts);
  await app.register(eventRoutes, routeOpts);
  await app.register(statsRoutes, routeOpts);
  await app.register(dashboardRoutes, routeOpts);
  await app.register(transformerRoutes, routeOpts);
  await app.register(sessionRoutes, routeOpts);
  return app;
};
