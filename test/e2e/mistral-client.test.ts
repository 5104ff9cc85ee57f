/**
 * The real client's default path, end to end: multipart submissions to
 * `POST /api/pdf/process-mistral-ocr` exactly as CommonKnowledgeScout sends them
 * (client-contract §2.1: fields, both auth headers, `x-worker`), a real server with its worker
 * and webhook dispatcher on a loopback port, the fake Mistral/OpenAI APIs reached by the real
 * clients, and a real loopback receiver that downloads every artifact while it still holds the
 * `completed` callback open (as the client's synchronous receiver does).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/server.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { loadConfig } from '../../src/config/load-config.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { textPdf } from '../processors/helpers/make-docs.js';
import { numberedPdf } from '../processors/helpers/mistral-docs.js';
import {
  startReceiver,
  type ReceivedRequest,
  type Receiver,
  type WireJson,
} from '../webhooks/receiver.js';

const KEY = 'secretary-test-key';
let fake: FakeProviders;
let rt: Runtime;
let base: string;
let receiver: Receiver;
let home: string;
let closeServer: () => Promise<void>;

interface Download {
  url: string;
  status: number;
  type: string | null;
  bytes: Uint8Array;
}
/** Artifact downloads made while a `completed` callback was held open, by `process.id`. */
const downloads = new Map<string, Download[]>();

const auth = { Authorization: `Bearer ${KEY}`, 'X-Secretary-Api-Key': KEY };
const absolute = (u: string): string => (/^https?:/.test(u) ? u : `${base}${u}`);

const download = async (url: string): Promise<Download> => {
  const res = await fetch(absolute(url), { headers: auth });
  return {
    url,
    status: res.status,
    type: res.headers.get('content-type'),
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
};

/** What the client's receiver does with `completed`: fetch every artifact, then answer. */
const downloadAll = async (body: WireJson): Promise<void> => {
  const d = (body.data ?? {}) as Record<string, string>;
  const urls: string[] = [
    d.pages_archive_url,
    d.mistral_ocr_images_url,
    d.mistral_ocr_raw_url,
    d.images_archive_url,
  ].filter((u): u is string => Boolean(u));
  // the client ignores mistral_ocr_raw_url and builds the path from process.id
  if (d.mistral_ocr_raw_url || d.mistral_ocr_raw_metadata)
    urls.push(`/api/pdf/jobs/${body.process.id}/mistral-ocr-raw`);
  downloads.set(body.process.id as string, await Promise.all(urls.map(download)));
};

const submit = async (path: string, fields: Record<string, string>, pdf: Uint8Array) => {
  const form = new FormData();
  form.append('file', new Blob([pdf]), 'dokument.pdf');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    body: form,
    headers: { ...auth, 'x-worker': 'true' },
  });
  const body = (await res.json()) as WireJson;
  return { status: res.status, body, ms: performance.now() - t0 };
};

/** A client job: its own callback URL and a fresh token per submission. */
const clientFields = (over: Record<string, string> = {}) => {
  const path = `/api/external/jobs/${randomUUID()}`;
  const token = randomUUID();
  return {
    path,
    token,
    fields: {
      includeOCRImages: 'true',
      includePreviewPages: 'true',
      includeHighResPages: 'true',
      useCache: 'false',
      callback_url: receiver.url(path),
      callback_token: token,
      ...over,
    },
  };
};

const callsTo = (path: string): ReceivedRequest[] =>
  receiver.requests.filter((r) => r.url === path);
const isTerminal = (r: ReceivedRequest): boolean =>
  r.body.phase === 'completed' || r.body.phase === 'error';

/** Waits for the terminal callback of `path`, then a little longer to see that nothing follows. */
const terminalOf = async (path: string, timeoutMs = 60_000): Promise<ReceivedRequest[]> => {
  const end = Date.now() + timeoutMs;
  while (!callsTo(path).some(isTerminal)) {
    if (Date.now() > end)
      throw new Error(
        `no terminal callback at ${path}: ${JSON.stringify(callsTo(path).map((r) => r.body.phase))}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 400));
  return callsTo(path);
};

const FINAL_KEYS = [
  'extracted_text',
  'images_archive_url',
  'pages_archive_url',
  'mistral_ocr_raw_url',
  'mistral_ocr_raw_metadata',
  'mistral_ocr_raw',
  'transcription',
  'result',
];

/** The sequence rules of client-contract §3: progress without final markers, one terminal callback, last, one token. */
const expectSequence = (
  calls: ReceivedRequest[],
  jobId: string,
  token: string,
  terminal: 'completed' | 'error',
): ReceivedRequest => {
  expect(calls.length).toBeGreaterThan(1);
  for (const c of calls) {
    expect(c.body.process?.id).toBe(jobId);
    expect(c.headers['x-callback-token']).toBe(token);
    expect(c.headers.authorization).toBe(`Bearer ${token}`);
  }
  const terminals = calls.filter(isTerminal);
  expect(terminals).toHaveLength(1);
  expect(calls.at(-1)).toBe(terminals[0]);
  for (const p of calls.slice(0, -1)) {
    expect(typeof p.body.progress).toBe('number');
    expect(['completed', 'failed', 'error', 'template_completed']).not.toContain(p.body.phase);
    expect(p.body.status).toBeUndefined();
    expect(p.body.error).toBeUndefined();
    for (const k of FINAL_KEYS) expect(p.body.data?.[k]).toBeUndefined();
  }
  expect(terminals[0]!.body.phase).toBe(terminal);
  return terminals[0]!;
};

const markers = (text: string): number[] =>
  [...text.matchAll(/^--- Seite (\d+) ---$/gm)].map((m) => Number(m[1]));
const refsOf = (text: string): string[] =>
  [...text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);

beforeAll(async () => {
  fake = await startFakeProviders();
  receiver = await startReceiver((req) =>
    req.body.phase === 'completed' ? { kind: 'ok', until: downloadAll(req.body) } : { kind: 'ok' },
  );
  home = mkdtempSync(join(tmpdir(), 'secretary-e2e-mistral-'));
  const config = loadConfig({
    home,
    env: {
      SECRETARY_SERVICE_API_KEY: KEY,
      MISTRAL_BASE_URL: fake.mistralBaseUrl,
      OPENAI_BASE_URL: fake.openaiBaseUrl,
    },
    overrides: {
      security: { allow_private_urls: true },
      processors: { pdf: { mistral: { max_pages_per_request: 3 } } },
      webhooks: { progress_interval_ms: 50, timeout_sec: 60 },
      generic_worker: {
        max_concurrent: 4,
        max_attempts: 2,
        backoff_base_sec: 0.05,
        backoff_max_sec: 0.1,
      },
      llm: { providers: { mistral: { max_retries: 1 }, openai: { max_retries: 1 } } },
    },
  });
  rt = await createRuntime({ config, withWorker: true, logger: pino({ level: 'silent' }) });
  const server = await startServer(rt, { host: '127.0.0.1', port: 0 });
  base = server.url;
  closeServer = () => server.app.close();
});

afterAll(async () => {
  await closeServer();
  await rt.close();
  await receiver.close();
  await fake.close();
  rmSync(home, { recursive: true, force: true });
});

beforeEach(() => {
  fake.reset();
});

describe('POST /api/pdf/process-mistral-ocr as the client sends it', () => {
  it('ACKs, calls back progress then completed with every artifact URL answering while completed is held open', async () => {
    const pdf = await numberedPdf(5, (p) =>
      p === 2 ? { images: ['png', 'jpeg'] } : p === 5 ? { images: ['jpeg'] } : {},
    );
    const c = clientFields();
    const ack = await submit('/api/pdf/process-mistral-ocr', c.fields, pdf);
    expect(ack.status).toBe(202);
    expect(ack.body).toMatchObject({
      status: 'accepted',
      webhook: { delivered_to: c.fields.callback_url },
    });
    const jobId = ack.body.job.id as string;
    const done = expectSequence(await terminalOf(c.path), jobId, c.token, 'completed');
    const data = done.body.data as Record<string, any>;
    expect(markers(data.extracted_text)).toEqual([1, 2, 3, 4, 5]);
    expect(data.metadata.text_contents.map((t: { page: number }) => t.page)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect(data.pages_archive_url).toBe(`/api/pdf/jobs/${jobId}/download-pages-archive`);
    expect(data.mistral_ocr_images_url).toBe(`/api/pdf/jobs/${jobId}/mistral-ocr-images`);
    expect(data.mistral_ocr_raw_url).toBe(`/api/pdf/jobs/${jobId}/mistral-ocr-raw`);
    expect(data.mistral_ocr_raw_metadata).toMatchObject({
      model: 'mistral-ocr-latest',
      pages_count: 5,
      usage_info: { pages_processed: 5 },
    });
    expect(data.images_archive_url).toBeUndefined();

    // downloaded by the receiver before it answered `completed`
    const got = downloads.get(jobId)!;
    expect(got.map((d) => [d.url, d.status])).toEqual([
      [data.pages_archive_url, 200],
      [data.mistral_ocr_images_url, 200],
      [data.mistral_ocr_raw_url, 200],
      [`/api/pdf/jobs/${jobId}/mistral-ocr-raw`, 200],
    ]);
    const pages = Object.keys(unzipSync(got[0]!.bytes)).sort();
    expect(pages).toEqual(
      [1, 2, 3, 4, 5].flatMap((n) => [`page_00${n}.jpeg`, `preview_00${n}.jpg`]).sort(),
    );
    expect(got[1]!.type).toBe('application/zip');
    expect(Object.keys(unzipSync(got[1]!.bytes)).sort()).toEqual(
      refsOf(data.extracted_text).sort(),
    );
    const raw = JSON.parse(Buffer.from(got[3]!.bytes).toString('utf8')) as {
      pages: Array<{ index: number; images: Array<{ image_base64: null }> }>;
    };
    expect(raw.pages.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
    expect(raw.pages[1]!.images).toHaveLength(2);
    expect(JSON.stringify(raw)).not.toContain('base64,');

    // OCR in chunks of 3 (test config), uploads deleted, usage and cost on the job
    expect(fake.requestsOf('mistral.ocr')).toHaveLength(2);
    expect(fake.storedFiles).toBe(0);
    const job = (await (
      await fetch(`${base}/api/jobs/${jobId}`, { headers: auth })
    ).json()) as WireJson;
    expect(job.data.llm_info.requests.map((r: { pages: number }) => r.pages).sort()).toEqual([
      2, 3,
    ]);
    expect(job.data.llm_info.total_cost).toBeCloseTo(0.005, 6);
    expect(job.data.results.is_from_cache).toBe(false);
    expect(
      (await fetch(`${base}/api/pdf/jobs/job-unknown/mistral-ocr-raw`, { headers: auth })).status,
    ).toBe(404);
  });

  it('the same submission twice with useCache=true calls back twice; the second is a cache hit with its own token and id', async () => {
    const pdf = await numberedPdf(2, () => ({ images: ['jpeg'] }));
    const path = `/api/external/jobs/${randomUUID()}`;
    const first = { ...clientFields({ useCache: 'true' }), path };
    first.fields.callback_url = receiver.url(path);
    const a = await submit('/api/pdf/process-mistral-ocr', first.fields, pdf);
    const calls = await terminalOf(path);
    const aId = a.body.job.id as string;
    expectSequence(calls, aId, first.token, 'completed');
    const secondToken = randomUUID();
    const b = await submit(
      '/api/pdf/process-mistral-ocr',
      { ...first.fields, callback_token: secondToken },
      pdf,
    );
    const bId = b.body.job.id as string;
    expect(bId).not.toBe(aId);
    const end = Date.now() + 30_000;
    while (
      !callsTo(path).some((r) => isTerminal(r) && r.body.process.id === bId) &&
      Date.now() < end
    )
      await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    const ofB = callsTo(path).filter((r) => r.body.process.id === bId);
    const doneB = expectSequence(ofB, bId, secondToken, 'completed');
    expect(fake.requestsOf('mistral.ocr')).toHaveLength(1);
    const job = (await (
      await fetch(`${base}/api/jobs/${bId}`, { headers: auth })
    ).json()) as WireJson;
    expect(job.data.results.is_from_cache).toBe(true);
    expect(doneB.body.data.extracted_text).toBe(calls.find(isTerminal)!.body.data.extracted_text);
    expect(downloads.get(bId)!.every((d) => d.status === 200)).toBe(true);
  });

  it('concurrent submissions to one callback URL never mix tokens or process ids; useCache=false really re-runs', async () => {
    const pdf = await numberedPdf(2);
    const path = `/api/external/jobs/${randomUUID()}`;
    const subs = await Promise.all(
      [1, 2, 3].map(async () => {
        const c = clientFields();
        const token = c.token;
        const ack = await submit(
          '/api/pdf/process-mistral-ocr',
          { ...c.fields, callback_url: receiver.url(path) },
          pdf,
        );
        return { token, id: ack.body.job.id as string };
      }),
    );
    const end = Date.now() + 60_000;
    while (callsTo(path).filter(isTerminal).length < 3 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 400));
    for (const s of subs)
      expectSequence(
        callsTo(path).filter((r) => r.body.process.id === s.id),
        s.id,
        s.token,
        'completed',
      );
    expect(callsTo(path)).toHaveLength(
      subs.reduce((n, s) => n + callsTo(path).filter((r) => r.body.process.id === s.id).length, 0),
    );
    expect(fake.requestsOf('mistral.ocr')).toHaveLength(3);
  });

  it('honours page_start and page_end; page_start alone runs to the end', async () => {
    const pdf = await numberedPdf(6);
    const a = clientFields({ page_start: '2', page_end: '4', includeHighResPages: 'false' });
    const ackA = await submit('/api/pdf/process-mistral-ocr', a.fields, pdf);
    const doneA = expectSequence(await terminalOf(a.path), ackA.body.job.id, a.token, 'completed');
    expect(markers(doneA.body.data.extracted_text)).toEqual([2, 3, 4]);
    expect(Object.keys(unzipSync(downloads.get(ackA.body.job.id)![0]!.bytes)).sort()).toEqual([
      'preview_002.jpg',
      'preview_003.jpg',
      'preview_004.jpg',
    ]);
    const b = clientFields({ page_start: '5' });
    const ackB = await submit('/api/pdf/process-mistral-ocr', b.fields, pdf);
    const doneB = expectSequence(await terminalOf(b.path), ackB.body.job.id, b.token, 'completed');
    expect(markers(doneB.body.data.extracted_text)).toEqual([5, 6]);
    expect(doneB.body.data.mistral_ocr_images_url).toBeUndefined();
    // the 6-page document is over the test's 3 pages per request, so only the range's pages
    // are copied into a small PDF and uploaded: pages 2–4 and 5–6, asked as 0-based pages of it
    expect(fake.requestsOf('mistral.ocr').map((r) => r.summary.pages)).toEqual([
      [0, 1, 2],
      [0, 1],
    ]);
    const uploaded = fake.requestsOf('mistral.files.upload').map((r) => r.summary.bytes as number);
    expect(Math.max(...uploaded)).toBeLessThan(pdf.length);
  });

  it('a chunk that keeps failing ends the job with one error callback naming its pages', async () => {
    const pdf = await numberedPdf(7, (p) =>
      p === 5 ? { lines: ['[[fake:ocr_status=500]]'] } : {},
    );
    const c = clientFields();
    const ack = await submit('/api/pdf/process-mistral-ocr', c.fields, pdf);
    const err = expectSequence(await terminalOf(c.path), ack.body.job.id, c.token, 'error');
    expect(err.body.error.code).toBe('LLM_REQUEST_FAILED');
    expect(err.body.error.message).toContain('page 4–6');
    expect(err.body.data).toBeNull();
    expect(fake.storedFiles).toBe(0);
  });

  it('a 429 with Retry-After is waited out and the job completes', async () => {
    const pdf = await numberedPdf(2);
    fake.fail('mistral.ocr', { status: 429, retryAfter: 1 });
    const c = clientFields();
    const ack = await submit('/api/pdf/process-mistral-ocr', c.fields, pdf);
    expectSequence(await terminalOf(c.path), ack.body.job.id, c.token, 'completed');
    const [limited, ok] = fake.requestsOf('mistral.ocr');
    expect(limited!.status).toBe(429);
    expect(ok!.status).toBe(200);
    expect(
      Date.parse(ok!.startedAt) - (Date.parse(limited!.startedAt) + limited!.durationMs!),
    ).toBeGreaterThanOrEqual(990);
  });

  it('an unreadable PDF gets one error callback, never completed, and nothing goes to the provider', async () => {
    const good = await textPdf([['Kaputt'], ['Auch kaputt']]);
    const c = clientFields();
    const ack = await submit(
      '/api/pdf/process-mistral-ocr',
      c.fields,
      good.slice(0, Math.floor(good.length / 2)),
    );
    const err = expectSequence(await terminalOf(c.path), ack.body.job.id, c.token, 'error');
    expect(err.body.error.code).toBe('CORRUPT_FILE');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('other methods through POST /api/pdf/process', () => {
  it('preview_and_mistral_ocr: OCR text plus a pages archive of previews', async () => {
    const pdf = await numberedPdf(2);
    const c = clientFields();
    const ack = await submit(
      '/api/pdf/process',
      {
        extraction_method: 'preview_and_mistral_ocr',
        useCache: 'true',
        callback_url: c.fields.callback_url,
        callback_token: c.token,
      },
      pdf,
    );
    const done = expectSequence(await terminalOf(c.path), ack.body.job.id, c.token, 'completed');
    expect(markers(done.body.data.extracted_text)).toEqual([1, 2]);
    expect(done.body.data.mistral_ocr_raw_url).toBe(
      `/api/pdf/jobs/${ack.body.job.id}/mistral-ocr-raw`,
    );
    const pages = downloads.get(ack.body.job.id)![0]!;
    expect(Object.keys(unzipSync(pages.bytes)).sort()).toEqual([
      'preview_001.jpg',
      'preview_002.jpg',
    ]);
  });

  it('vision: llm and llm_and_native complete with the vision model Markdown per page and its usage; use_cache reuses the answers', async () => {
    const pdf = await textPdf([['Erste Seite.'], ['Zweite Seite.']]);
    for (const method of ['llm', 'llm_and_native']) {
      const c = clientFields();
      const ack = await submit(
        '/api/pdf/process',
        {
          extraction_method: method,
          useCache: 'true',
          includeImages: 'false',
          target_language: 'de',
          callback_url: c.fields.callback_url,
          callback_token: c.token,
        },
        pdf,
      );
      const done = expectSequence(await terminalOf(c.path), ack.body.job.id, c.token, 'completed');
      const text = done.body.data.extracted_text as string;
      expect(markers(text)).toEqual([1, 2]);
      expect(text).toContain('## Bild 1');
      if (method === 'llm_and_native')
        expect(text).toContain('=== Native Text ===\nZweite Seite.\n\n=== LLM Markdown ===');
      const job = (await (
        await fetch(`${base}/api/jobs/${ack.body.job.id}`, { headers: auth })
      ).json()) as WireJson;
      const requests = job.data.llm_info.requests as Array<{
        purpose: string;
        from_cache: boolean;
      }>;
      expect(requests.map((r) => r.purpose)).toEqual(['image_to_markdown', 'image_to_markdown']);
      // useCache=true: the second method sends the same page images with the same prompt,
      // so the gateway answers them from its response cache (recorded, cost 0)
      expect(requests.map((r) => r.from_cache)).toEqual(
        method === 'llm' ? [false, false] : [true, true],
      );
    }
    expect(fake.requestsOf('openai.chat')).toHaveLength(2);
  });
});
