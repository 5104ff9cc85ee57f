/**
 * Session pipeline throughput: N `session` jobs, each with its own session page and its own
 * attachments PDF (generated, `--pages` pages), through the real runtime (SQLite store, worker,
 * the registered `pdf` type, ModelGateway, `openai` SDK) against the fake providers answering
 * each template call after a fixed latency; then the same N again (session cache hits).
 *   node --import tsx bench/session.ts [--jobs 40] [--pages 8] [--latency-ms 300] [--worker-concurrency 8]
 * stdout: one JSON line (`session_jobs`); diagnostics on stderr.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { pino } from 'pino';
import { createRuntime } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config/load-config.js';
import type { Job } from '../src/core/job.js';
import { startFakeProviders } from '../src/fake-providers/index.js';
import { emit, median, note, round } from './lib/bench-util.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '40' },
    pages: { type: 'string', default: '8' },
    'latency-ms': { type: 'string', default: '300' },
    'worker-concurrency': { type: 'string', default: '8' },
    quick: { type: 'boolean', default: false },
  },
});
const JOBS = values.quick ? 10 : Number(values.jobs);
const PAGES = Number(values.pages);
const LATENCY = Number(values['latency-ms']);
const WORKER = Number(values['worker-concurrency']);

const slides = async (i: number): Promise<Uint8Array> => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= PAGES; p++) {
    const page = doc.addPage([842, 595]);
    page.drawText(`Session ${i}, slide ${p}`, { x: 60, y: 500, size: 32, font });
    page.drawText(`Point ${p}.1 about community repair and open licences`, {
      x: 60,
      y: 420,
      size: 18,
      font,
    });
    page.drawText(`Point ${p}.2 about funding and maintenance`, { x: 60, y: 380, size: 18, font });
  }
  return doc.save();
};

const page = (i: number): string =>
  `<!doctype html><html><head><title>Talk ${i}</title></head><body><article><h1>Talk ${i}: Open hardware in practice</h1>` +
  `<p>${'Community workshops repair devices, share schematics and keep tools in use for longer. '.repeat(6)}</p>` +
  `<p>Speaker ${i} explains funding, licences and maintenance.</p></article></body></html>`;

const p = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

const main = async (): Promise<void> => {
  const files = new Map<string, { type: string; body: string | Uint8Array }>();
  for (let i = 0; i < JOBS; i++) {
    files.set(`/talk/${i}`, { type: 'text/html; charset=utf-8', body: page(i) });
    files.set(`/slides/${i}.pdf`, { type: 'application/pdf', body: await slides(i) });
  }
  const site = createServer((req, res) => {
    const f = files.get(req.url ?? '');
    res.writeHead(f ? 200 : 404, { 'content-type': f?.type ?? 'text/plain' });
    res.end(f?.body ?? 'not found');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const fake = await startFakeProviders({ latencyMs: LATENCY });
  const home = mkdtempSync(join(tmpdir(), 'secretary-bench-session-'));
  const config = loadConfig({
    home,
    env: {},
    overrides: {
      log: { level: 'warn' },
      security: { allow_private_urls: true },
      generic_worker: { max_concurrent: WORKER },
      // Mistral configured: the attachments take the original's preview_and_mistral_ocr
      llm: {
        providers: {
          openai: { base_url: fake.openaiBaseUrl, max_concurrent: WORKER },
          mistral: { base_url: fake.mistralBaseUrl },
        },
      },
    },
  });
  const rt = await createRuntime({
    config,
    withWorker: true,
    logger: pino({ level: 'warn' }, process.stderr),
  });
  const runPass = async (label: string): Promise<{ wall: number; jobs: Job[] }> => {
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const { job } = await rt.store.createJob({
        job_type: 'session',
        parameters: {
          event: 'Bench Conf',
          session: `Talk ${i}`,
          url: `${base}/talk/${i}`,
          track: `Track ${i % 4}`,
          attachments_url: `${base}/slides/${i}.pdf`,
          video_transcript: `Transcript of talk ${i}.`,
        },
      });
      ids.push(job.job_id);
    }
    let last = '';
    for (;;) {
      const stats = await rt.store.stats();
      const by = Object.fromEntries(stats.by_status.map((s) => [s.status, s.count]));
      const open = (by.pending ?? 0) + (by.processing ?? 0);
      const line = `${label}: ${JOBS - open}/${JOBS} done`;
      if (line !== last) note(line);
      last = line;
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const wall = (performance.now() - t0) / 1000;
    const jobs = (await Promise.all(ids.map((id) => rt.store.getJob(id)))).filter(
      (j): j is Job => j !== null,
    );
    return { wall, jobs };
  };
  try {
    const first = await runPass('first pass');
    const second = await runPass('second pass (cache)');
    const ms = (j: Job) =>
      Date.parse(j.completed_at ?? '') - Date.parse(j.processing_started_at ?? '');
    const stepMedians: Record<string, number> = {};
    for (const step of ['fetch_page', 'attachments', 'template', 'write_markdown', 'archive']) {
      const xs = first.jobs.flatMap((j) =>
        ((j.results?.steps ?? []) as Array<{ step: string; duration_ms: number }>)
          .filter((s) => s.step === step)
          .map((s) => s.duration_ms),
      );
      stepMedians[`${step}_p50_ms`] = Math.round(median(xs));
    }
    emit({
      bench: 'session_jobs',
      jobs: JOBS,
      pages_per_attachment: PAGES,
      latency_ms: LATENCY,
      worker_max_concurrent: WORKER,
      completed: first.jobs.filter((j) => j.status === 'completed').length,
      failed: first.jobs.filter((j) => j.status === 'failed').length,
      wall_s: round(first.wall),
      jobs_per_s: round(JOBS / first.wall),
      job_p50_ms: Math.round(p(first.jobs.map(ms), 0.5)),
      job_p95_ms: Math.round(p(first.jobs.map(ms), 0.95)),
      ...stepMedians,
      cached_wall_s: round(second.wall),
      cached_hits: second.jobs.filter((j) => j.results?.is_from_cache === true).length,
      cached_job_p50_ms: Math.round(p(second.jobs.map(ms), 0.5)),
      attachments_method:
        (
          first.jobs[0]?.results?.envelope as
            { process?: { attachments_method?: string } } | undefined
        )?.process?.attachments_method ?? null,
      model_calls: fake.requestsOf('openai.chat').length,
      ocr_calls: fake.requestsOf('mistral.ocr').length,
    });
  } finally {
    await rt.close();
    await fake.close();
    await new Promise<void>((r) => site.close(() => r()));
    rmSync(home, { recursive: true, force: true });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`bench/session failed: ${String(err instanceof Error ? err.stack : err)}\n`);
  process.exitCode = 1;
});
