/**
 * The dashboard: `GET /` answers `web/index.html`, `/dashboard/<file>` its scripts and styles
 * (`@fastify/static`, revalidated with ETags). Both are open (the page holds no data; it asks
 * for the API key and sends it with every API call). A strict Content-Security-Policy allows
 * only this origin's scripts and styles, so job data the page shows can never run as code.
 * Off with `server.dashboard: false`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { RouteOptions } from '../api-deps.js';

/** `web/` of the package: three levels up from src/api/routes (or dist/api/routes). */
export const webRoot = (): string => fileURLToPath(new URL('../../../web/', import.meta.url));

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export const dashboardRoutes = async (app: FastifyInstance, opts: RouteOptions): Promise<void> => {
  if (!opts.deps.config.server.dashboard) return;
  const root = webRoot();
  const indexFile = `${root}index.html`;
  if (!existsSync(indexFile)) {
    app.log.warn({ root }, 'dashboard files not found; the page at / is not served');
    return;
  }
  const index = readFileSync(indexFile);

  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply.headers(SECURITY_HEADERS).header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(index),
  );

  await app.register(fastifyStatic, {
    root: `${root}dashboard`,
    prefix: '/dashboard/',
    decorateReply: false,
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: false,
    setHeaders: (reply) => {
      reply.headers({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
    },
  });
};
