/**
 * The composition root shared by `serve`, `worker` and `run`: config → logger → store →
 * handler registry → worker. The worker starts with the process, never with the first HTTP
 * request (the original's W15).
 */
import { pino, type Logger } from 'pino';
import type { SecretaryConfig } from '../config/defaults.js';
import { createStore, redactUrl, storeOptionsFromConfig } from '../store/create-store.js';
import type { JobStore } from '../store/job-store.js';
import { HandlerRegistry } from '../worker/registry.js';
import { WorkerManager, type WorkerOptions } from '../worker/worker-manager.js';
import { registerBuiltinHandlers } from '../handlers/index.js';

export interface Runtime {
  config: SecretaryConfig;
  logger: Logger;
  store: JobStore;
  registry: HandlerRegistry;
  worker: WorkerManager | null;
  /** Stops the worker (graceful) and closes the store. */
  close(): Promise<void>;
}

export const workerOptionsFromConfig = (c: SecretaryConfig): WorkerOptions => {
  const w = c.generic_worker;
  const perTypeMs = Object.fromEntries(Object.entries(w.timeout_sec_per_type).map(([k, v]) => [k, v * 1000]));
  return {
    maxConcurrent: w.max_concurrent,
    maxConcurrentPerType: { ...w.max_concurrent_per_type },
    clusterMaxConcurrentPerType: { ...w.cluster_max_concurrent_per_type },
    pollIntervalMs: w.poll_interval_sec * 1000,
    leaseMs: w.lease_sec * 1000,
    heartbeatMs: w.heartbeat_sec * 1000,
    reaperIntervalMs: w.reaper_interval_sec * 1000,
    timeoutMs: w.timeout_sec * 1000,
    timeoutMsPerType: perTypeMs,
    backoffBaseMs: w.backoff_base_sec * 1000,
    backoffMaxMs: w.backoff_max_sec * 1000,
    progressIntervalMs: c.webhooks.progress_interval_ms,
  };
};

export const createLogger = (config: SecretaryConfig): Logger =>
  pino({ level: config.log.level, base: { pid: process.pid }, redact: ['*.token', '*.headers', 'webhook.token'] });

export interface RuntimeOptions {
  config: SecretaryConfig;
  withWorker: boolean;
  logger?: Logger;
  registry?: HandlerRegistry;
}

export const createRuntime = async (opts: RuntimeOptions): Promise<Runtime> => {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config);
  const store = await createStore(storeOptionsFromConfig(config));
  logger.info({ store: store.name, url: redactUrl(config.store.url) }, 'store ready');
  const registry = opts.registry ?? registerBuiltinHandlers(new HandlerRegistry(), { config });
  const worker =
    opts.withWorker && config.generic_worker.active
      ? new WorkerManager(store, registry, workerOptionsFromConfig(config), logger.child({ component: 'worker' }))
      : null;
  worker?.start();
  let closed = false;
  return {
    config,
    logger,
    store,
    registry,
    worker,
    close: async () => {
      if (closed) return;
      closed = true;
      await worker?.stop(config.generic_worker.shutdown_grace_sec * 1000);
      await store.close();
    },
  };
};
