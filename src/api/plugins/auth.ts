/**
 * API keys: `Authorization: Bearer <key>` or `X-Secretary-Api-Key: <key>` (SSE streams also
 * accept `?access_token=<key>`, since a browser `EventSource` cannot send headers).
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, against every configured key.
 * Fail-closed: with keys configured, a request without a valid key gets 401. With no key
 * configured, only loopback clients are served (and `startServer` binds loopback only).
 * Open paths: health, the OpenAPI UI and spec, and the dashboard (`/` and its assets under
 * `/dashboard/`); `GET /api/events` accepts `?access_token=` like the streams.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyEntry } from '../../config/defaults.js';
import type { Principal } from '../api-deps.js';
import { sendError } from '../reply-error.js';
import { globalPlugin } from './global-plugin.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

const ADMIN: Principal = Object.freeze({ user_id: null, admin: true });
/** Unauthenticated callers of open paths: sees nothing. */
const NOBODY: Principal = Object.freeze({ user_id: '\u0000anonymous', admin: false });

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Dashboard assets: flat file names only (no dot segments, no encoding, no sub-folders). */
const DASHBOARD_ASSET = /^\/dashboard\/[a-z0-9][a-z0-9-]*\.(?:js|css|svg|png|ico)$/;

export const isOpenPath = (path: string): boolean =>
  path === '/' ||
  DASHBOARD_ASSET.test(path) ||
  path === '/api/health' ||
  path.startsWith('/api/health/') ||
  path === '/api/doc' ||
  path.startsWith('/api/doc/') ||
  path === '/api/swagger.json' ||
  path === '/favicon.ico';

export const isLoopbackAddress = (addr: string | undefined): boolean =>
  !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));

const presentedKey = (req: FastifyRequest, path: string): string | null => {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  const x = req.headers['x-secretary-api-key'];
  if (typeof x === 'string' && x) return x.trim();
  if (path.endsWith('/stream') || path === '/api/events') {
    const q = req.query as Record<string, unknown> | undefined;
    if (q && typeof q.access_token === 'string' && q.access_token) return q.access_token;
  }
  return null;
};

export interface AuthOptions extends Record<string, unknown> {
  keys: readonly ApiKeyEntry[];
}

export const authPlugin = globalPlugin<AuthOptions>('secretary-auth', async (app: FastifyInstance, opts) => {
  const keys = opts.keys.map((k) => ({
    digest: digest(k.key),
    principal: Object.freeze({ user_id: k.user_id ?? null, admin: k.admin ?? !k.user_id }) as Principal,
  }));
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?', 1)[0] ?? '';
    if (keys.length === 0) {
      if (!isLoopbackAddress(req.socket?.remoteAddress) && !isOpenPath(path)) {
        return sendError(reply, 'UNAUTHORIZED', 'no API key is configured, so only loopback clients are served; set SECRETARY_SERVICE_API_KEY or auth.api_keys');
      }
      req.principal = ADMIN;
      return;
    }
    const key = presentedKey(req, path);
    let found: Principal | null = null;
    if (key !== null && key.length <= 4096) {
      const d = digest(key);
      for (const k of keys) if (timingSafeEqual(d, k.digest) && !found) found = k.principal;
    }
    if (found) {
      req.principal = found;
      return;
    }
    req.principal = NOBODY;
    if (isOpenPath(path)) return;
    return sendError(reply, 'UNAUTHORIZED', 'Invalid or missing service token (send Authorization: Bearer <key> or X-Secretary-Api-Key)');
  });
});
