/**
 * The composition root shared by `serve`, `worker` and `run`: config → logger → store →
 * handler registry → worker. The worker starts with the process, never with the first HTTP
 * request (the original's W15); `serve` starts it right after binding its port.
 */
import { pino, type Logger } from 'pino';
import type { SecretaryConfig } from '../config/defaults.js';
import { createStore, redactUrl, storeOptionsFromConfig } from '../store/create-store.js';
import type { JobStore } from '../store/job-store.js';
import { HandlerRegistry } from '../worker/registry.js';
import { WorkerManager, type WorkerEvents, type WorkerOptions } from '../worker/worker-manager.js';
import { registerBuiltinHandlers } from '../handlers/index.js';
import { availableParallelism } from 'node:os';
import { closeCpuPool, configureCpuPool } from '../worker/cpu-pool.js';
import { closeOcrPool, configureOcrPool } from '../processors/ocr/tesseract-pool.js';
import { WebhookDispatcher, type DispatcherOptions } from '../webhooks/webhook-dispatcher.js';
import { ModelGateway, type ModelCallEvent } from '../processors/llm/index.js';
import { RetentionSweeper } from '../files/retention.js';
import { IngressActivity } from '../core/ingress-activity.js';

export interface Runtime {
  config: SecretaryConfig;
  logger: Logger;
  store: JobStore;
  registry: HandlerRegistry;
  /** Model providers of this process (one concurrency limit per provider for all jobs). */
  models: ModelGateway;
  worker: WorkerManager | null;
  /** Sends the webhook outbox; runs whenever the worker runs. */
  webhooks: WebhookDispatcher | null;
  /** Submissions being received by this process's API; the worker lets a burst go first
   *  (null without a worker: nothing to give way to). */
  ingress: IngressActivity | null;
  /** Starts the worker, the webhook dispatcher and retention (once; `createRuntime` does it
   *  unless `deferStart`). */
  start(): void;
  /** Stops the worker (graceful), then the webhook dispatcher, and closes the store. */
  close(): Promise<void>;
}

export const workerOptionsFromConfig = (
  c: SecretaryConfig,
  claimGate?: WorkerOptions['claimGate'],
): WorkerOptions => {
  const w = c.generic_worker;
  const perTypeMs = Object.fromEntries(
    Object.entries(w.timeout_sec_per_type).map(([k, v]) => [k, v * 1000]),
  );
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
    ...(claimGate ? { claimGate } : {}),
  };
};

export const dispatcherOptionsFromConfig = (c: SecretaryConfig): DispatcherOptions => ({
  concurrency: c.webhooks.concurrency,
  timeoutMs: c.webhooks.timeout_sec * 1000,
  maxRetries: c.webhooks.max_retries,
  signingSecret: c.webhooks.signing_secret,
  guard: { allowPrivate: c.security.allow_private_urls, allowlist: c.security.url_allowlist },
  publicBaseUrl: c.server.public_base_url,
});

export const createLogger = (
  config: SecretaryConfig,
  opts: { level?: string; stderr?: boolean } = {},
): Logger =>
  pino(
    {
      level: opts.level ?? config.log.level,
      base: { pid: process.pid },
      redact: ['*.token', '*.headers', 'webhook.token'],
    },
    opts.stderr ? pino.destination(2) : undefined,
  );

export interface RuntimeOptions {
  config: SecretaryConfig;
  withWorker: boolean;
  logger?: Logger;
  registry?: HandlerRegistry;
  /** Worker hooks (metrics: durations, claim latency). */
  workerEvents?: WorkerEvents;
  /** Model call hook (metrics: requests, tokens, cost). */
  onModelCall?: (e: ModelCallEvent) => void;
  /** Leave the worker, webhooks and retention to `start()` (`serve` binds its port first). */
  deferStart?: boolean;
}

/**
 * glibc gives each thread that allocates its own malloc arena (up to 8 per core); sharp's
 * page encodes on 16 libuv threads fragment them. `MALLOC_ARENA_MAX=2` kept bench:mistral's
 * peak RSS at 509–589 MB, glibc's default let it reach 683 MB (docs/benchmarks.md). glibc reads
 * it only at process start, so a long-running process that lacks it says how to start.
 */
export const warnWithoutArenaLimit = (logger: Logger, env = process.env, platform = process.platform): void => {
  if (platform !== 'linux' || env.MALLOC_ARENA_MAX || /arena_max/.test(env.GLIBC_TUNABLES ?? '')) return;
  logger.warn(
    'MALLOC_ARENA_MAX is not set: under page-rendering load this process may use ~100 MB more memory than it needs. Start it with MALLOC_ARENA_MAX=2 in its environment (npm start and the Docker image do).',
  );
};

export const createRuntime = async (opts: RuntimeOptions): Promise<Runtime> => {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config);
  // CPU work (rendering, OCR) leaves one core to the event loop: the API and the lease
  // heartbeats must stay responsive while PDFs are processed
  const threads = config.processors.cpu_threads || Math.max(1, availableParallelism() - 1);
  configureCpuPool({ threads });
  configureOcrPool({ size: threads });
  const store = await createStore(storeOptionsFromConfig(config));
  logger.info({ store: store.name, url: redactUrl(config.store.url) }, 'store ready');
  const models = ModelGateway.fromConfig(config, opts.onModelCall);
  const registry =
    opts.registry ?? registerBuiltinHandlers(new HandlerRegistry(), { config, models });
  const runsWorker = opts.withWorker && config.generic_worker.active;
  const ingress = runsWorker
    ? new IngressActivity(8, config.generic_worker.ingress_priority_ms)
    : null;
  const worker = runsWorker
    ? new WorkerManager(
        store,
        registry,
        workerOptionsFromConfig(config, ingress ?? undefined),
        logger.child({ component: 'worker' }),
        opts.workerEvents,
      )
    : null;
  const webhooks = worker
    ? new WebhookDispatcher(
        store,
        registry,
        dispatcherOptionsFromConfig(config),
        logger.child({ component: 'webhooks' }),
      )
    : null;
  // old jobs and unused cache entries go where a worker runs (several processes may sweep)
  const retention = worker
    ? new RetentionSweeper({
        store,
        cacheDir: config.paths.cache_dir,
        days: config.retention.days,
        intervalMin: config.retention.interval_min,
        logger: logger.child({ component: 'retention' }),
      })
    : null;
  let closed = false;
  const start = (): void => {
    if (closed) return;
    worker?.start();
    webhooks?.start();
    retention?.start();
  };
  if (!opts.deferStart) start();
  return {
    config,
    logger,
    store,
    registry,
    models,
    worker,
    webhooks,
    ingress,
    start,
    close: async () => {
      if (closed) return;
      closed = true;
      await retention?.stop();
      await worker?.stop(config.generic_worker.shutdown_grace_sec * 1000);
      // after the worker: the last jobs' callbacks are in the outbox and get the grace period
      await webhooks?.stop(config.generic_worker.shutdown_grace_sec * 1000);
      await store.close();
      await Promise.all([closeCpuPool(), closeOcrPool()]);
    },
  };
};
