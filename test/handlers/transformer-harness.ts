/**
 * Transformer jobs end to end: a real SQLite store, the real worker and webhook dispatcher, the
 * real ModelGateway and `openai` SDK pointed at the local fake providers, a price table, and a
 * templates directory written by the test. Nothing of Secretary is mocked.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import { isTerminal, type Job, type NewJob } from '../../src/core/job.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { registerBuiltinHandlers } from '../../src/handlers/index.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import type { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import { WorkerManager } from '../../src/worker/worker-manager.js';
import {
  fastWorkerOptions,
  openSqlite,
  quietLogger,
  tempDir,
  waitForJob,
} from '../helpers/worker-fixtures.js';
import { testDispatcherOptions } from '../webhooks/harness.js';

/** USD per 1M tokens in the tests' price table. */
export const PRICE = { input: 1000, output: 2000 };

export interface TransformerHarness {
  fake: FakeProviders;
  store: SqliteJobStore;
  registry: HandlerRegistry;
  worker: WorkerManager;
  config: SecretaryConfig;
  models: ModelGateway;
  templatesDir: string;
  /** Creates a job (validated like the API does) and returns it. */
  enqueue(job: NewJob): Promise<Job>;
  /** Waits until the job is terminal. */
  settled(jobId: string, timeoutMs?: number): Promise<Job>;
  close(): Promise<void>;
}

export const startTransformerHarness = async (
  over: DeepPartial<SecretaryConfig> = {},
  extraProviders: Record<string, { base_url: string }> = {},
): Promise<TransformerHarness> => {
  const fake = await startFakeProviders();
  const t = tempDir('secretary-transformer-');
  const templatesDir = join(t.dir, 'templates');
  mkdirSync(templatesDir);
  const config = loadConfig({
    home: t.dir,
    env: {},
    overrides: {
      ...over,
      security: { allow_private_urls: true },
      processors: { templates: { dir: templatesDir }, ...over.processors },
      llm: {
        ...over.llm,
        providers: {
          openai: {
            base_url: fake.openaiBaseUrl,
            max_retries: 1,
            models: { 'gpt-4o-mini': PRICE },
            ...over.llm?.providers?.openai,
          },
          mistral: { base_url: fake.mistralBaseUrl },
          ...Object.fromEntries(
            Object.entries(extraProviders).map(([k, v]) => [
              k,
              { kind: 'openai' as const, api_key_env: null, max_retries: 0, ...v },
            ]),
          ),
        },
      },
    },
  });
  mkdirSync(join(config.paths.cache_dir, 'uploads'), { recursive: true });
  const store = await openSqlite(join(t.dir, 'data', 'q.db'));
  const models = new ModelGateway({
    llm: config.llm,
    cacheDir: config.paths.cache_dir,
    backoffBaseMs: 20,
  });
  const registry = registerBuiltinHandlers(new HandlerRegistry(), { config, models });
  const worker = new WorkerManager(
    store,
    registry,
    fastWorkerOptions({
      maxConcurrent: 4,
      leaseMs: 30_000,
      heartbeatMs: 5000,
      backoffBaseMs: 20,
      backoffMaxMs: 50,
    }),
    quietLogger(),
  );
  const dispatcher = new WebhookDispatcher(store, registry, testDispatcherOptions(), quietLogger());
  worker.start();
  dispatcher.start();
  return {
    fake,
    store,
    registry,
    worker,
    config,
    models,
    templatesDir,
    enqueue: async (job) => {
      const problems = registry.validate(job.job_type, job.parameters ?? {});
      if (problems.length) throw new Error(`invalid: ${JSON.stringify(problems)}`);
      return (await store.createJob(job)).job;
    },
    settled: (id, timeoutMs = 30_000) =>
      waitForJob(store, id, (j) => isTerminal(j.status), timeoutMs),
    close: async () => {
      await worker.stop(2000);
      await dispatcher.stop(2000);
      await store.close();
      await fake.close();
      t.cleanup();
    },
  };
};

/** A loopback page server for URL mode. */
export const startPageServer = async (
  pages: Record<string, string>,
): Promise<{ base: string; close: () => Promise<void> }> => {
  const server: Server = createServer((req, res) => {
    const body = pages[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};

/**
 * A minimal OpenAI-compatible chat server that answers every completion with `reply` (a stand-in
 * for a real model that answers a known selector set; the fake derives values from the prompt).
 */
export const startScriptedModel = async (
  reply: string,
): Promise<{ base: string; calls: number; close: () => Promise<void> }> => {
  const state = { calls: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.calls++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 0,
          model: 'scripted',
          choices: [
            { index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    get calls() {
      return state.calls;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};

export const writeTemplate = (dir: string, name: string, content: string): void =>
  writeFileSync(join(dir, `${name}.md`), content);
