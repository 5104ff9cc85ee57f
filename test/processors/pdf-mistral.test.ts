/**
 * Mistral OCR of generated PDFs through the real gateway and Mistral client against the fake
 * Mistral API: page markers and real page numbers, the images archive named as the Markdown
 * references it, the raw answer without base64, page renders, page ranges, chunking by pages
 * and by bytes, failing and short chunks, uploads deleted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { SecretaryError } from '../../src/core/errors.js';
import { addLlmRequest, type LlmInfo } from '../../src/core/job.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import {
  mistralOcrPdf,
  type MistralOcrPdfOptions,
  type OcrCaller,
} from '../../src/processors/pdf/index.js';
import { imageRefs } from '../../src/processors/pdf/mistral-ocr-pages.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { writeTemp } from './helpers/make-docs.js';
import { numberedPdf } from './helpers/mistral-docs.js';

let fake: FakeProviders;
let home: { dir: string; cleanup: () => void };
let runs = 0;

const gatewayFor = (f: FakeProviders, timeoutSec = 20, maxRetries = 1): ModelGateway => {
  const config = loadConfig({
    home: home.dir,
    env: {},
    overrides: {
      llm: {
        providers: {
          mistral: { base_url: f.mistralBaseUrl, max_retries: maxRetries, timeout_sec: timeoutSec },
        },
      },
    },
  });
  return new ModelGateway({ llm: config.llm, cacheDir: join(home.dir, 'cache'), backoffBaseMs: 5 });
};

let usage: LlmInfo | null = null;
const caller =
  (gw: ModelGateway): OcrCaller =>
  (req) =>
    gw.ocr({
      ...req,
      purpose: 'ocr',
      processor: 'PDFProcessor',
      usage: {
        record: (r) => (usage = addLlmRequest(usage, { ...r, timestamp: r.timestamp ?? '' })),
      },
    });

const run = async (
  pdf: Uint8Array,
  over: Partial<MistralOcrPdfOptions> = {},
  f: FakeProviders = fake,
  gw: ModelGateway = gatewayFor(f),
) => {
  const filePath = await writeTemp(home.dir, `doc-${++runs}.pdf`, pdf);
  const workDir = join(home.dir, 'work', `run-${runs}`);
  const result = await mistralOcrPdf({
    filePath,
    workDir,
    method: 'mistral_ocr_with_pages',
    ocr: caller(gw),
    ...over,
  });
  return { result, workDir };
};

const zipOf = (file: string): Record<string, Uint8Array> =>
  unzipSync(new Uint8Array(readFileSync(file)));
const markers = (text: string | null): number[] =>
  [...(text ?? '').matchAll(/^--- Seite (\d+) ---$/gm)].map((m) => Number(m[1]));
const ocrRequests = () => fake.requestsOf('mistral.ocr');

const expectCode = async (p: Promise<unknown>, code: string): Promise<SecretaryError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretaryError);
  expect((err as SecretaryError).code).toBe(code);
  return err as SecretaryError;
};

beforeAll(async () => {
  fake = await startFakeProviders();
  home = tempDir('secretary-mistral-');
});
afterAll(async () => {
  await fake.close();
  home.cleanup();
});
beforeEach(() => {
  fake.reset();
  usage = null;
});

describe('mistralOcrPdf', () => {
  it('maps pages to marked text, names the images archive as the Markdown references it, keeps the raw answer without base64 and renders the pages', async () => {
    const pdf = await numberedPdf(4, (p) =>
      p === 1 ? { images: ['png', 'jpeg'] } : p === 3 ? { images: ['jpeg'] } : {},
    );
    const { result, workDir } = await run(pdf, { includePreviews: true, includeHighRes: true });
    expect(markers(result.extracted_text)).toEqual([1, 2, 3, 4]);
    expect(result.text_contents.map((t) => t.page)).toEqual([1, 2, 3, 4]);
    for (const t of result.text_contents)
      expect(t.content).toContain(`Seite ${t.page} des Dokuments`);

    const refs = result.text_contents.flatMap((t) => imageRefs(t.content));
    expect(refs).toHaveLength(3);
    const images = zipOf(join(workDir, result.mistral.images_archive!));
    expect(Object.keys(images).sort()).toEqual([...refs].sort());
    for (const [name, bytes] of Object.entries(images)) {
      expect(name).toMatch(/\.jpeg$/);
      expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    }

    const rawText = readFileSync(join(workDir, result.mistral.raw_file), 'utf8');
    expect(rawText).not.toContain('base64,');
    const raw = JSON.parse(rawText) as {
      pages: Array<{
        index: number;
        markdown: string;
        images: Array<{ id: string; image_base64: null }>;
      }>;
      model: string;
      usage_info: { pages_processed: number };
    };
    expect(raw.pages.map((p) => p.index)).toEqual([0, 1, 2, 3]);
    expect(raw.pages[0]!.images.map((i) => i.image_base64)).toEqual([null, null]);
    expect(raw.pages[0]!.images.map((i) => i.id)).toEqual(imageRefs(raw.pages[0]!.markdown));
    expect(raw.model).toBe('mistral-ocr-latest');
    expect(raw.usage_info.pages_processed).toBe(4);
    expect(result.mistral).toMatchObject({
      model: 'mistral-ocr-latest',
      pages_count: 4,
      image_count: 3,
      missing_images: [],
    });

    const pages = zipOf(join(workDir, result.files.archives.pages!));
    expect(Object.keys(pages).sort()).toEqual([
      'page_001.jpeg',
      'page_002.jpeg',
      'page_003.jpeg',
      'page_004.jpeg',
      'preview_001.jpg',
      'preview_002.jpg',
      'preview_003.jpg',
      'preview_004.jpg',
    ]);
    const preview = await sharp(pages['preview_001.jpg']!).metadata();
    expect(Math.max(preview.width!, preview.height!)).toBe(360);
    const high = await sharp(pages['page_001.jpeg']!).metadata();
    expect([high.width, high.height]).toEqual([1654, 2339]);

    expect(ocrRequests().map((r) => r.summary.pages)).toEqual([[0, 1, 2, 3]]);
    expect(ocrRequests()[0]!.summary.include_image_base64).toBe(true);
    expect(fake.storedFiles).toBe(0);
    expect(usage?.requests).toEqual([
      expect.objectContaining({ purpose: 'ocr', pages: 4, provider: 'mistral' }),
    ]);
    expect(existsSync(join(workDir, '.ocr-tmp'))).toBe(false);
  });

  it('honours page ranges exactly: page_start..page_end, and page_start alone runs to the end', async () => {
    const pdf = await numberedPdf(5);
    const a = await run(pdf, { pageStart: 2, pageEnd: 3, includePreviews: true });
    expect(markers(a.result.extracted_text)).toEqual([2, 3]);
    expect(a.result.text_contents[0]!.content).toContain('Seite 2 des');
    expect(Object.keys(zipOf(join(a.workDir, 'pages.zip'))).sort()).toEqual([
      'preview_002.jpg',
      'preview_003.jpg',
    ]);
    const b = await run(pdf, { pageStart: 4 });
    expect(markers(b.result.extracted_text)).toEqual([4, 5]);
    expect(b.result.files.archives.pages).toBeUndefined();
    expect(ocrRequests().map((r) => r.summary.pages)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const raw = JSON.parse(readFileSync(join(b.workDir, 'mistral_ocr_raw.json'), 'utf8')) as {
      pages: Array<{ index: number }>;
    };
    expect(raw.pages.map((p) => p.index)).toEqual([3, 4]);
  });

  it('splits long ranges into chunks that run concurrently; pages keep their real numbers and image names stay unique', async () => {
    const pdf = await numberedPdf(7, () => ({ images: ['jpeg'] }));
    fake.setLatency(300);
    const { result, workDir } = await run(pdf, { maxPagesPerRequest: 3, concurrency: 3 });
    fake.setLatency(0);
    expect(markers(result.extracted_text)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const t of result.text_contents) expect(t.content).toContain(`Seite ${t.page} des`);
    expect(result.mistral.requests.map((r) => [r.pages, r.split])).toEqual([
      ['page 1–3', true],
      ['page 4–6', true],
      ['page 7', true],
    ]);
    // each chunk is its own small PDF, asked for all its pages
    expect(
      ocrRequests()
        .map((r) => (r.summary.pages as number[]).length)
        .sort(),
    ).toEqual([1, 3, 3]);
    const uploads = fake.requestsOf('mistral.files.upload');
    expect(uploads).toHaveLength(3);
    // all three were in flight at once: each started before any answer
    const firstDone = Math.min(
      ...ocrRequests().map((r) => Date.parse(r.startedAt) + (r.durationMs ?? 0)),
    );
    expect(ocrRequests().every((r) => Date.parse(r.startedAt) < firstDone)).toBe(true);
    const refs = result.text_contents.flatMap((t) => imageRefs(t.content));
    expect(new Set(refs).size).toBe(7);
    expect(refs).toContain('p004-img-0.jpeg');
    expect(Object.keys(zipOf(join(workDir, 'mistral_ocr_images.zip'))).sort()).toEqual(
      [...refs].sort(),
    );
    const raw = JSON.parse(readFileSync(join(workDir, 'mistral_ocr_raw.json'), 'utf8')) as {
      pages: Array<{ index: number }>;
      usage_info: { pages_processed: number };
    };
    expect(raw.pages.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(raw.usage_info.pages_processed).toBe(7);
    expect(usage?.requests).toHaveLength(3);
    expect(fake.storedFiles).toBe(0);
  });

  it('halves a chunk over the byte limit, and refuses a single page that alone is over it', async () => {
    const pdf = await numberedPdf(4, () => ({ noiseKiB: 60 }));
    const { result } = await run(pdf, {
      maxPagesPerRequest: 4,
      maxRequestBytes: 150 * 1024,
      includeOcrImages: false,
    });
    expect(result.mistral.requests.map((r) => r.pages)).toEqual(['page 1–2', 'page 3–4']);
    expect(result.mistral.requests.every((r) => r.bytes <= 150 * 1024)).toBe(true);
    expect(markers(result.extracted_text)).toEqual([1, 2, 3, 4]);
    expect(result.mistral.images_archive).toBeNull();
    const err = await expectCode(run(pdf, { maxRequestBytes: 30 * 1024 }), 'FILE_TOO_LARGE');
    expect(err.message).toMatch(/^page 1 alone is/);
  });

  it('a chunk that keeps failing fails the run with its pages named; nothing is left behind', async () => {
    const pdf = await numberedPdf(6, (p) =>
      p === 4 ? { lines: ['[[fake:ocr_status=500]]'] } : {},
    );
    const workDir = join(home.dir, 'work', 'failing');
    const filePath = await writeTemp(home.dir, 'failing.pdf', pdf);
    const err = await expectCode(
      mistralOcrPdf({
        filePath,
        workDir,
        method: 'mistral_ocr',
        ocr: caller(gatewayFor(fake)),
        maxPagesPerRequest: 2,
        includePreviews: true,
      }),
      'LLM_REQUEST_FAILED',
    );
    expect(err.message).toContain('Mistral OCR failed for page 3–4');
    expect(err.details).toMatchObject({ pages: 'page 3–4', status: 500 });
    expect(existsSync(workDir)).toBe(false);
    expect(fake.storedFiles).toBe(0);
  });

  it('retries a chunk whose answer lacks a page, and fails with LLM_BAD_RESPONSE when it stays short', async () => {
    const once = await numberedPdf(3, (p) =>
      p === 2 ? { lines: ['[[fake:ocr_drop_page_once]]'] } : {},
    );
    const ok = await run(once);
    expect(markers(ok.result.extracted_text)).toEqual([1, 2, 3]);
    expect(ok.result.mistral.requests[0]!.attempts).toBe(2);
    const always = await numberedPdf(3, (p) =>
      p === 2 ? { lines: ['[[fake:ocr_drop_page]]'] } : {},
    );
    const err = await expectCode(run(always, { maxPagesPerRequest: 2 }), 'LLM_BAD_RESPONSE');
    expect(err.message).toContain('page 1–2');
    expect(err.message).toContain('1 pages for 2 pages asked');
  });

  it('reports images the answer has no data for, and makes no images archive without images', async () => {
    const pdf = await numberedPdf(2, (p) =>
      p === 2 ? { images: ['png'], lines: ['[[fake:ocr_no_image_data]]'] } : {},
    );
    const { result } = await run(pdf);
    expect(result.mistral.missing_images).toEqual(['img-0.jpeg']);
    expect(result.mistral.images_archive).toBeNull();
  });

  it('cuts a document over the API page limit into chunks the API accepts', async () => {
    const small = await startFakeProviders({ ocrMaxPages: 5 });
    try {
      const pdf = await numberedPdf(7);
      const err = await expectCode(run(pdf, {}, small), 'LLM_REQUEST_FAILED');
      expect(err.message).toContain('page 1–7');
      expect(err.message).toContain('HTTP 400');
      const { result } = await run(pdf, { maxPagesPerRequest: 5 }, small);
      expect(markers(result.extracted_text)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await small.close();
    }
  });
});

describe('mistralOcrPdf: cancel and timeouts', () => {
  it('a cancel aborts the OCR request at once, deletes the upload and leaves nothing behind', async () => {
    const pdf = await numberedPdf(3);
    fake.setLatency(10_000);
    const filePath = await writeTemp(home.dir, 'cancel.pdf', pdf);
    const workDir = join(home.dir, 'work', 'cancelled');
    const ac = new AbortController();
    const started = Date.now();
    const p = mistralOcrPdf({
      filePath,
      workDir,
      method: 'mistral_ocr',
      ocr: caller(gatewayFor(fake)),
      signal: ac.signal,
    });
    await new Promise((r) => setTimeout(r, 500));
    ac.abort();
    await expectCode(p, 'CANCELLED');
    expect(Date.now() - started).toBeLessThan(5000);
    fake.setLatency(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(ocrRequests()[0]!.aborted).toBe(true);
    expect(fake.storedFiles).toBe(0);
    expect(existsSync(workDir)).toBe(false);
  });

  it('a provider that does not answer in time fails the chunk with its pages named', async () => {
    const pdf = await numberedPdf(4);
    fake.fail('mistral.ocr', { hang: true });
    const err = await expectCode(
      run(pdf, { maxPagesPerRequest: 2, concurrency: 1 }, fake, gatewayFor(fake, 1, 0)),
      'LLM_REQUEST_FAILED',
    );
    expect(err.message).toContain('Mistral OCR failed for page 1–2');
    expect(err.message).toContain('did not answer in time');
    expect(fake.storedFiles).toBe(0);
  });
});
