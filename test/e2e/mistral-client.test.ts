/**
 * The real client's default path, end to end: multipart submissions to
 * `POST /api/pdf/process-mistral-ocr` exactly as CommonKnowledgeScout sends them
 * (client-contract §2.1: fields, both auth headers, `x-worker`), a real server with its worker
 * and webhook dispatcher on a loopback port, the fake Mistral/OpenAI APIs reached by the real
 * clients, and a real loopback receiver that downloads every artifact while it still holds the
 * `completed` callback open (as the client's synchronous receiver does).
 */
import { randomUUID } from 'node:crypto';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { textPdf } from '../processors/helpers/make-docs.js';
import { numberedPdf } from '../processors/helpers/mistral-docs.js';
import type { ReceivedRequest } from '../webhooks/receiver.js';
import {
  expectSequence,
  isTerminal,
  markers,
  refsOf,
  startClientHarness,
  type ClientHarness,
} from './client-harness.js';

let h: ClientHarness;

beforeAll(async () => {
  h = await startClientHarness({
    processors: { pdf: { mistral: { max_pages_per_request: 3 } } },
    webhooks: { progress_interval_ms: 50, timeout_sec: 60 },
    generic_worker: {
      max_concurrent: 4,
      max_attempts: 2,
      backoff_base_sec: 0.05,
      backoff_max_sec: 0.1,
    },
    llm: { providers: { mistral: { max_retries: 1 }, openai: { max_retries: 1 } } },
  });
});

afterAll(async () => {
  await h.close();
});

beforeEach(() => {
  h.fake.reset();
});

const submit = (...a: Parameters<ClientHarness['submit']>) => h.submit(...a);
const clientFields = (over?: Record<string, string>) => h.clientFields(over);
const callsTo = (path: string): ReceivedRequest[] => h.callsTo(path);
const terminalOf = (path: string, ms?: number) => h.terminalOf(path, ms);

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
    const got = h.downloads.get(jobId)!;
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
    expect(h.fake.requestsOf('mistral.ocr')).toHaveLength(2);
    expect(h.fake.storedFiles).toBe(0);
    const job = await h.getJob(jobId);
    expect(job.data.llm_info.requests.map((r: { pages: number }) => r.pages).sort()).toEqual([
      2, 3,
    ]);
    expect(job.data.llm_info.total_cost).toBeCloseTo(0.005, 6);
    expect(job.data.results.is_from_cache).toBe(false);
    expect(
      (await fetch(`${h.base}/api/pdf/jobs/job-unknown/mistral-ocr-raw`, { headers: h.auth }))
        .status,
    ).toBe(404);
  });

  it('the same submission twice with useCache=true calls back twice; the second is a cache hit with its own token and id', async () => {
    const pdf = await numberedPdf(2, () => ({ images: ['jpeg'] }));
    const path = `/api/external/jobs/${randomUUID()}`;
    const first = { ...clientFields({ useCache: 'true' }), path };
    first.fields.callback_url = h.receiver.url(path);
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
    expect(h.fake.requestsOf('mistral.ocr')).toHaveLength(1);
    const job = await h.getJob(bId);
    expect(job.data.results.is_from_cache).toBe(true);
    expect(doneB.body.data.extracted_text).toBe(calls.find(isTerminal)!.body.data.extracted_text);
    expect(h.downloads.get(bId)!.every((d) => d.status === 200)).toBe(true);
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
          { ...c.fields, callback_url: h.receiver.url(path) },
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
    expect(h.fake.requestsOf('mistral.ocr')).toHaveLength(3);
  });

  it('honours page_start and page_end; page_start alone runs to the end', async () => {
    const pdf = await numberedPdf(6);
    const a = clientFields({ page_start: '2', page_end: '4', includeHighResPages: 'false' });
    const ackA = await submit('/api/pdf/process-mistral-ocr', a.fields, pdf);
    const doneA = expectSequence(await terminalOf(a.path), ackA.body.job.id, a.token, 'completed');
    expect(markers(doneA.body.data.extracted_text)).toEqual([2, 3, 4]);
    expect(Object.keys(unzipSync(h.downloads.get(ackA.body.job.id)![0]!.bytes)).sort()).toEqual([
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
    expect(h.fake.requestsOf('mistral.ocr').map((r) => r.summary.pages)).toEqual([
      [0, 1, 2],
      [0, 1],
    ]);
    const uploaded = h.fake
      .requestsOf('mistral.files.upload')
      .map((r) => r.summary.bytes as number);
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
    expect(h.fake.storedFiles).toBe(0);
  });

  it('a 429 with Retry-After is waited out and the job completes', async () => {
    const pdf = await numberedPdf(2);
    h.fake.fail('mistral.ocr', { status: 429, retryAfter: 1 });
    const c = clientFields();
    const ack = await submit('/api/pdf/process-mistral-ocr', c.fields, pdf);
    expectSequence(await terminalOf(c.path), ack.body.job.id, c.token, 'completed');
    const [limited, ok] = h.fake.requestsOf('mistral.ocr');
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
    expect(h.fake.requests).toHaveLength(0);
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
    const pages = h.downloads.get(ack.body.job.id)![0]!;
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
      const job = await h.getJob(ack.body.job.id);
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
    expect(h.fake.requestsOf('openai.chat')).toHaveLength(2);
  });
});
