/** A real SQLite store, a real worker running `echo` jobs, and the real webhook dispatcher. */
import { join } from 'node:path';
import type { WebhookConfig } from '../../src/core/job.js';
import { echoJobType } from '../../src/handlers/echo/echo-handler.js';
import type { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import { WorkerManager, type WorkerLogger, type WorkerOptions } from '../../src/worker/worker-manager.js';
import { WebhookDispatcher, type DispatcherOptions } from '../../src/webhooks/webhook-dispatcher.js';
import { fastWorkerOptions, openSqlite, tempDir } from '../helpers/worker-fixtures.js';
import type { ReceivedRequest } from './receiver.js';

export interface Harness {
  store: SqliteJobStore;
  registry: HandlerRegistry;
  worker: WorkerManager;
  dispatcher: WebhookDispatcher;
  path: string;
  logs: { level: string; obj: object; msg?: string }[];
  newDispatcher: (over?: Partial<DispatcherOptions>) => WebhookDispatcher;
  close: () => Promise<void>;
}

export const recordingLogger = (logs: Harness['logs']): WorkerLogger => ({
  info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
  warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
  debug: (obj, msg) => logs.push({ level: 'debug', obj, msg }),
});

export const testDispatcherOptions = (over: Partial<DispatcherOptions> = {}): DispatcherOptions => ({
  guard: { allowPrivate: true },
  concurrency: 8,
  timeoutMs: 5000,
  maxRetries: 8,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  pollIntervalMs: 100,
  ...over,
});

export const startHarness = async (
  opts: { dispatcher?: Partial<DispatcherOptions>; worker?: Partial<WorkerOptions>; path?: string; start?: boolean } = {},
): Promise<Harness> => {
  const tmp = opts.path ? null : tempDir('secretary-webhooks-');
  const path = opts.path ?? join(tmp?.dir ?? '', 'jobs.db');
  const store = await openSqlite(path);
  const registry = new HandlerRegistry().register(echoJobType);
  const logs: Harness['logs'] = [];
  const logger = recordingLogger(logs);
  const worker = new WorkerManager(store, registry, fastWorkerOptions({ maxConcurrent: 20, progressIntervalMs: 1000, ...opts.worker }), logger);
  const newDispatcher = (over: Partial<DispatcherOptions> = {}) =>
    new WebhookDispatcher(store, registry, testDispatcherOptions({ ...opts.dispatcher, ...over }), logger);
  const dispatcher = newDispatcher();
  if (opts.start !== false) {
    worker.start();
    dispatcher.start();
  }
  return {
    store,
    registry,
    worker,
    dispatcher,
    path,
    logs,
    newDispatcher,
    close: async () => {
      await worker.stop(1000);
      await dispatcher.stop(1000);
      await store.close();
      tmp?.cleanup();
    },
  };
};

export const hook = (url: string, over: Partial<WebhookConfig> = {}): WebhookConfig => ({ url, token: 'cb-token-123', ...over });

/** Requests of one job (by `process.id`), in arrival order. */
export const ofJob = (reqs: ReceivedRequest[], jobId: string): ReceivedRequest[] => reqs.filter((r) => r.body?.process?.id === jobId);

export const isTerminalBody = (r: ReceivedRequest): boolean => r.body.phase === 'completed' || r.body.phase === 'error';

export const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Final markers the receiver treats as "job done" (client-contract §3.3). */
export const FINAL_MARKERS = [
  'extracted_text', 'images_archive_url', 'pages_archive_url', 'mistral_ocr_raw_url', 'mistral_ocr_raw_metadata',
  'mistral_ocr_raw', 'transcription', 'result', 'text',
];
