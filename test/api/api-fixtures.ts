/**
 * Builds a real API for tests: a fresh temp home with a SQLite store, a registry with `echo`
 * (plus whatever the test registers), optionally a running worker. Nothing is faked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { buildApp } from '../../src/api/app.js';
import type { IngressActivity } from '../../src/core/ingress-activity.js';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import type { ApiKeyEntry, SecretaryConfig } from '../../src/config/defaults.js';
import { echoJobType } from '../../src/handlers/echo/echo-handler.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import type { JobStore } from '../../src/store/job-store.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import { WorkerManager } from '../../src/worker/worker-manager.js';

export const silentLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

export interface TestApi {
  app: FastifyInstance;
  store: JobStore;
  registry: HandlerRegistry;
  config: SecretaryConfig;
  home: string;
  worker: WorkerManager | null;
  close(): Promise<void>;
}

export interface TestApiOptions {
  keys?: ApiKeyEntry[];
  worker?: boolean;
  /** Registers more job types before the app is built. */
  register?: (r: HandlerRegistry) => void;
  config?: DeepPartial<SecretaryConfig>;
  /** Counts submissions in flight (the API's hook); also the worker's claim gate. */
  ingress?: IngressActivity;
}

/** A permissive `pdf` type: the seeds' bodies must be accepted once such a type exists. */
export const registerPermissivePdf = (r: HandlerRegistry): void => {
  r.register({
    type: 'pdf',
    parameters: Type.Object({ extraction_method: Type.Optional(Type.String()) }, { additionalProperties: true }),
    handler: async () => ({}),
  });
};

export const createTestApi = async (opts: TestApiOptions = {}): Promise<TestApi> => {
  const home = mkdtempSync(join(tmpdir(), 'secretary-api-'));
  const config = loadConfig({
    home,
    env: {},
    overrides: { ...(opts.config ?? {}), auth: { api_keys: opts.keys ?? [] } },
  });
  const store = new SqliteJobStore({ path: join(home, 'data', 'secretary.db') });
  await store.init();
  const registry = new HandlerRegistry().register(echoJobType);
  opts.register?.(registry);
  const worker = opts.worker
    ? new WorkerManager(
        store,
        registry,
        {
          maxConcurrent: 4,
          pollIntervalMs: 200,
          leaseMs: 30_000,
          heartbeatMs: 5_000,
          reaperIntervalMs: 60_000,
          timeoutMs: 60_000,
          backoffBaseMs: 20,
          backoffMaxMs: 50,
          progressIntervalMs: 0,
          ...(opts.ingress ? { claimGate: opts.ingress } : {}),
        },
        silentLogger,
      )
    : null;
  worker?.start();
  const app = await buildApp({ config, store, registry, worker, ...(opts.ingress ? { ingress: opts.ingress } : {}) });
  await app.ready();
  return {
    app,
    store,
    registry,
    config,
    home,
    worker,
    close: async () => {
      await app.close();
      await worker?.stop(2000);
      await store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds or the time is up. */
export const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
};

export const countJobs = async (store: JobStore): Promise<number> => {
  const s = await store.stats();
  return s.by_status.reduce((n, r) => n + r.count, 0);
};
