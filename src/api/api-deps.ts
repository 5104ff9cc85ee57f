/** What the API needs from the runtime; passed to `buildApp` and on to the route plugins. */
import type { IngressActivity } from '../core/ingress-activity.js';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretaryConfig } from '../config/defaults.js';
import type { JobStore } from '../store/job-store.js';
import type { HandlerRegistry } from '../worker/registry.js';
import type { WorkerManager } from '../worker/worker-manager.js';
import type { PayloadContext } from '../webhooks/payloads.js';
import type { ApiMetrics } from './metrics.js';
import type { GuardOptions } from '../net/url-guard.js';

export interface ApiDeps {
  config: SecretaryConfig;
  store: JobStore;
  registry: HandlerRegistry;
  /** A pino logger; default: no logging. */
  logger?: FastifyBaseLogger;
  /** The in-process worker (health, metrics); null for API-only nodes. */
  worker?: WorkerManager | null;
  /** Metrics object whose worker events are wired into the worker; default a fresh one. */
  metrics?: ApiMetrics;
  /** Counts submissions (POSTs) in flight for the worker's claim gate (`IngressActivity`). */
  ingress?: IngressActivity;
}

/** The caller of a request, set by the auth plugin. */
export interface Principal {
  /** Null for admin keys and for the no-key loopback mode. */
  user_id: string | null;
  /** Admin keys (and the no-key loopback mode) see every job. */
  admin: boolean;
}

/** What route plugins get as options. */
export interface RouteOptions extends Record<string, unknown> {
  deps: ApiDeps;
  /** For callback-shaped data (SSE events, poll fallback). */
  payload: PayloadContext;
}

/** The SSRF guard settings for URLs clients give (webhooks, downloads). */
export const guardOf = (opts: RouteOptions): GuardOptions => ({
  allowPrivate: opts.deps.config.security.allow_private_urls,
  allowlist: opts.deps.config.security.url_allowlist,
});
