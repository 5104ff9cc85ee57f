/**
 * LLM job throughput: N `transformer` jobs (a template with four fields) through the real
 * runtime (SQLite store, worker, ModelGateway, `openai` SDK) against the local fake providers
 * answering every chat call after a fixed latency, while autocannon polls `GET /api/jobs/{id}`.
 *   node --import tsx bench/llm.ts [--jobs 500] [--latency-ms 300] [--provider-concurrency 8] [--worker-concurrency 16]
 * stdout: one JSON line (`llm_transformer_jobs`); diagnostics on stderr.
 *
 * Bound: each job makes one call, so the ideal wall time is jobs × latency / min(provider
 * max_concurrent, worker max_concurrent); the bench reports which of the two bounds it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { startServer } from '../src/api/server.js';
import { createRuntime } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config/load-config.js';
import { startFakeProviders } from '../src/fake-providers/index.js';
import { emit, note, round } from './lib/bench-util.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '500' },
    'latency-ms': { type: 'string', default: '300' },
    'provider-concurrency': { type: 'string', default: '8' },
    'worker-concurrency': { type: 'string', default: '16' },
    quick: { type: 'boolean', default: false },
  },
});
const JOBS = values.quick ? 100 : Number(values.jobs);
const LATENCY = Number(values['latency-ms']);
const PROVIDER = Number(values['provider-concurrency']);
const WORKER = Number(values['worker-concurrency']);

const TEMPLATE = `---
title: {{title|A title}}
tags: {{tags|Array of keywords}}
---
# {{title|A title}}

{{summary|A summary}}

{{decisions|The decisions}}
`;

const main = async (): Promise<void> => {
  const fake = await startFakeProviders({ latencyMs: LATENCY });
  const home = mkdtempSync(join(tmpdir(), 'secretary-bench-llm-'));
  mkdirSync(join(home, 'templates'));
  writeFileSync(join(home, 'templates', 'Bench.md'), TEMPLATE);
  const config = loadConfig({
    home,
    env: {},
    overrides: {
      log: { level: 'warn' },
      generic_worker: { max_concurrent: WORKER },
      llm: { providers: { openai: { base_url: fake.openaiBaseUrl, max_concurrent: PROVIDER } } },
    },
  });
  const rt = await createRuntime({
    config,
    withWorker: true,
    logger: pino({ level: 'warn' }, process.stderr),
  });
  const { app, url } = await startServer(rt, { host: '127.0.0.1', port: 0 });
  try {
    const ids: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i++) {
      const { job } = await rt.store.createJob({
        job_type: 'transformer',
        parameters: {
          text: `Meeting ${i}: the board decided to fund project ${i}.`,
          template: 'Bench',
          use_cache: false,
        },
      });
      ids.push(job.job_id);
    }
    note(`enqueued ${JOBS} jobs in ${Math.round(performance.now() - t0)} ms`);
    const ideal = (JOBS * LATENCY) / Math.min(PROVIDER, WORKER) / 1000;
    // poll one job's status over HTTP for (about) the length of the run
    const probe = ids[Math.floor(JOBS / 2)]!;
    const polling = new Promise<autocannon.Result>((resolve, reject) => {
      autocannon(
        {
          url: `${url}/api/jobs/${probe}`,
          connections: 8,
          duration: Math.max(2, Math.floor(ideal)),
          workers: 1,
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
    });
    let last = '';
    for (;;) {
      const stats = await rt.store.stats();
      const by = Object.fromEntries(stats.by_status.map((s) => [s.status, s.count]));
      const open = (by.pending ?? 0) + (by.processing ?? 0);
      const line = `done ${(by.completed ?? 0) + (by.failed ?? 0)}/${JOBS}, in flight at the provider ${rt.models
        .load()
        .map((l) => `${l.in_flight}+${l.queued} queued`)
        .join(', ')}`;
      if (line !== last) note(line);
      last = line;
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const wall = (performance.now() - t0) / 1000;
    const poll = await polling;
    const stats = await rt.store.stats();
    const by = Object.fromEntries(stats.by_status.map((s) => [s.status, s.count]));
    const chat = fake.requestsOf('openai.chat');
    emit({
      bench: 'llm_transformer_jobs',
      jobs: JOBS,
      latency_ms: LATENCY,
      provider_max_concurrent: PROVIDER,
      worker_max_concurrent: WORKER,
      bound_by: PROVIDER < WORKER ? 'provider' : PROVIDER > WORKER ? 'worker' : 'both',
      wall_s: round(wall),
      ideal_s: round(ideal),
      ratio: round(wall / ideal, 3),
      jobs_per_s: round(JOBS / wall),
      completed: by.completed ?? 0,
      failed: by.failed ?? 0,
      lost: JOBS - (by.completed ?? 0) - (by.failed ?? 0) - (by.cancelled ?? 0),
      model_calls: chat.length,
      get_job_p99_ms: poll.latency.p99,
      get_job_p50_ms: poll.latency.p50,
      get_job_req_per_s: Math.round(poll.requests.average),
      get_job_non_2xx: poll.non2xx,
    });
  } finally {
    await app.close();
    await rt.close();
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`bench/llm failed: ${String(err instanceof Error ? err.stack : err)}\n`);
  process.exitCode = 1;
});
