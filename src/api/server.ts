/**
 * `startServer(runtime, {host, port})`: builds the app on a runtime and listens. Refuses to
 * bind a non-loopback address when no API key is configured.
 */
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../cli/runtime.js';
import type { SecretaryConfig } from '../config/defaults.js';
import { buildApp } from './app.js';
import type { ApiMetrics } from './metrics.js';

export interface ServerOptions {
  host: string;
  port: number;
  metrics?: ApiMetrics;
}

export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Throws `StartupError` when `host` is not loopback and no API key is configured. */
export const assertBindAllowed = (config: SecretaryConfig, host: string): void => {
  if (config.auth.api_keys.length === 0 && !isLoopbackHost(host)) {
    throw new StartupError(
      `refusing to listen on ${host} without an API key: set SECRETARY_SERVICE_API_KEY (or auth.api_keys in config/config.yaml), or bind 127.0.0.1`,
    );
  }
};

export const startServer = async (runtime: Runtime, opts: ServerOptions): Promise<{ app: FastifyInstance; url: string }> => {
  const { config, logger } = runtime;
  const keyed = config.auth.api_keys.length > 0;
  assertBindAllowed(config, opts.host);
  const app = await buildApp({
    config,
    store: runtime.store,
    registry: runtime.registry,
    logger,
    worker: runtime.worker,
    ...(runtime.ingress ? { ingress: runtime.ingress } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  const address = await app.listen({ host: opts.host, port: opts.port });
  logger.info(
    { address, auth: keyed ? `${config.auth.api_keys.length} API key(s)` : 'none (loopback only)', worker: runtime.worker?.workerId ?? null },
    keyed
      ? `Secretary API listening on ${address}; requests need an API key`
      : `Secretary API listening on ${address} WITHOUT authentication (no API key configured): only loopback clients are served. Set SECRETARY_SERVICE_API_KEY to require a key.`,
  );
  return { app, url: address };
};
