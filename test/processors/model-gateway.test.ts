/**
 * The ModelGateway through the real clients (the `openai` SDK, our Mistral REST client)
 * against the local fake providers: answers, usage and cost, retries with Retry-After, errors
 * with stable codes, abort, timeout, the per-provider concurrency limit, the response cache,
 * transcription and Mistral OCR (upload, OCR, delete).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import { RetryLaterError, SecretaryError, UnrecoverableError } from '../../src/core/errors.js';
import { addLlmRequest, type LlmInfo } from '../../src/core/job.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import {
  ModelGateway,
  type ModelCallEvent,
  type UsageSink,
} from '../../src/processors/llm/index.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import {
  PDFArray,
  PDFDocument,
  PDFNumber,
  concatTransformationMatrix,
  drawObject,
  popGraphicsState,
  pushGraphicsState,
} from 'pdf-lib';
import sharp from 'sharp';
import { pdfWithImage, textPdf } from './helpers/make-docs.js';

let fake: FakeProviders;
let home: { dir: string; cleanup: () => void };

beforeAll(async () => {
  fake = await startFakeProviders();
  home = tempDir('secretary-gw-');
});
afterAll(async () => {
  await fake.close();
  home.cleanup();
});
beforeEach(() => {
  fake.reset();
  fake.setLatency(0);
});

const gateway = (
  over: DeepPartial<SecretaryConfig['llm']> = {},
  env: Record<string, string> = {},
  events: ModelCallEvent[] = [],
): ModelGateway => {
  const config = loadConfig({
    home: home.dir,
    env: { OPENAI_API_KEY: 'k', MISTRAL_API_KEY: 'k', ...env },
    overrides: {
      llm: {
        ...over,
        providers: {
          openai: {
            base_url: fake.openaiBaseUrl,
            max_retries: 2,
            ...(over.providers?.openai ?? {}),
          },
          mistral: {
            base_url: fake.mistralBaseUrl,
            max_retries: 2,
            ...(over.providers?.mistral ?? {}),
          },
          ...Object.fromEntries(
            Object.entries(over.providers ?? {}).filter(([k]) => k !== 'openai' && k !== 'mistral'),
          ),
        },
      },
    },
  });
  return new ModelGateway({
    llm: config.llm,
    cacheDir: config.paths.cache_dir,
    backoffBaseMs: 20,
    onCall: (e) => events.push(e),
  });
};

/** Collects usage the way a job does (`ctx.usage` → `llm_info`). */
const sink = (): UsageSink & { info: LlmInfo | null } => {
  const s = {
    info: null as LlmInfo | null,
    record(r: Parameters<UsageSink['record']>[0]) {
      s.info = addLlmRequest(s.info, { ...r, timestamp: r.timestamp ?? new Date().toISOString() });
    },
  };
  return s;
};

const ask = (text: string) => [{ role: 'user' as const, content: text }];
const base = { purpose: 'test', processor: 'Test' };

describe('chat through the openai SDK', () => {
  it('answers from the request, records tokens and prices them; sums over calls', async () => {
    const usage = sink();
    const gw = gateway();
    const r1 = await gw.chat('chat', { ...base, messages: ask('Hallo aus Bozen'), usage });
    const r2 = await gw.chat('chat', { ...base, messages: ask('Zweite Frage'), usage });
    expect(r1.text).toContain('Hallo aus Bozen');
    expect(r1.provider).toBe('openai');
    expect(r1.model).toBe('gpt-4o-mini');
    expect(r1.usage.prompt_tokens).toBeGreaterThan(0);
    // gpt-4o-mini: 0.15 / 0.6 USD per 1M tokens
    const expected = (t: typeof r1) =>
      (t.usage.prompt_tokens * 0.15 + t.usage.completion_tokens * 0.6) / 1e6;
    expect(r1.cost).toBeCloseTo(expected(r1), 10);
    expect(usage.info!.requests_count).toBe(2);
    expect(usage.info!.total_tokens).toBe(r1.usage.total_tokens + r2.usage.total_tokens);
    expect(usage.info!.total_cost).toBeCloseTo(expected(r1) + expected(r2), 10);
    expect(usage.info!.requests[0]).toMatchObject({
      provider: 'openai',
      purpose: 'test',
      from_cache: false,
    });
  });

  it('a model without a price costs null, and the total becomes null', async () => {
    const usage = sink();
    const gw = gateway();
    await gw.chat('chat', { ...base, messages: ask('a'), usage });
    const r = await gw.chat('chat', {
      ...base,
      model: 'some-unpriced-model',
      messages: ask('b'),
      usage,
    });
    expect(r.cost).toBeNull();
    expect(usage.info!.total_cost).toBeNull();
  });

  it('sends response_format only when the provider has json_mode', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' } },
      required: ['title'],
    };
    const responseFormat = { type: 'json_schema' as const, name: 'fields', schema };
    const on = await gateway().chat('chat', {
      ...base,
      messages: ask('Titel bitte'),
      responseFormat,
    });
    expect(JSON.parse(on.text)).toEqual({ title: 'title: Titel bitte' });
    expect(on.jsonMode).toBe(true);
    const off = await gateway({ providers: { openai: { json_mode: false } } }).chat('chat', {
      ...base,
      messages: ask('Titel bitte'),
      responseFormat,
    });
    expect(off.jsonMode).toBe(false);
    expect(fake.requestsOf('openai.chat').map((r) => r.summary.response_format)).toEqual([
      'json_schema',
      null,
    ]);
  });

  it('sends images as vision content parts', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
      'base64',
    );
    const r = await gateway().chat('vision', {
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Beschreibe' },
            { type: 'image', data: png, mimeType: 'image/png' },
          ],
        },
      ],
    });
    expect(r.model).toBe('gpt-4o');
    expect(r.text).toMatch(/2×2 Pixeln/);
    expect(fake.requestsOf('openai.chat')[0]!.summary.images).toBe(1);
  });
});

describe('call policy', () => {
  it('retries a 429 after its Retry-After and a 500, then succeeds', async () => {
    const events: ModelCallEvent[] = [];
    fake.fail('openai.chat', { status: 429, retryAfterMs: 300 }, { status: 500 });
    const r = await gateway({}, {}, events).chat('chat', { ...base, messages: ask('x') });
    expect(r.text).toContain('x');
    const reqs = fake.requestsOf('openai.chat');
    expect(reqs.map((q) => q.status)).toEqual([429, 500, 200]);
    expect(Date.parse(reqs[1]!.startedAt) - Date.parse(reqs[0]!.startedAt)).toBeGreaterThanOrEqual(
      290,
    );
    expect(events.at(-1)).toMatchObject({ outcome: 'ok', attempts: 3 });
  });

  it('gives up after max_retries with LLM_REQUEST_FAILED (retryable by the job)', async () => {
    fake.fail('openai.chat', { status: 503 }, { status: 503 }, { status: 503 });
    const err = await gateway()
      .chat('chat', { ...base, messages: ask('x') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretaryError);
    expect(err).not.toBeInstanceOf(UnrecoverableError);
    expect((err as SecretaryError).code).toBe('LLM_REQUEST_FAILED');
    expect((err as SecretaryError).details).toMatchObject({
      provider: 'openai',
      status: 503,
      attempts: 3,
    });
    expect(fake.requestsOf('openai.chat')).toHaveLength(3);
  });

  it('a long Retry-After hands the job back to the queue with LLM_RATE_LIMITED', async () => {
    fake.fail('openai.chat', { status: 429, retryAfter: 120 });
    const err = await gateway()
      .chat('chat', { ...base, messages: ask('x') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).code).toBe('LLM_RATE_LIMITED');
    expect((err as RetryLaterError).delayMs).toBe(120_000);
    expect(fake.requestsOf('openai.chat')).toHaveLength(1);
  });

  it('a body that is not JSON is retried, then LLM_BAD_RESPONSE', async () => {
    fake.fail('openai.chat', { malformed: true }, { malformed: true }, { malformed: true });
    const err = await gateway()
      .chat('chat', { ...base, messages: ask('x') })
      .catch((e: unknown) => e);
    expect((err as SecretaryError).code).toBe('LLM_BAD_RESPONSE');
    expect(err).toBeInstanceOf(UnrecoverableError);
  });

  it('a refused key fails at once and names the variable to check', async () => {
    const strict = await startFakeProviders({ requireKey: 'right-key' });
    try {
      const config = loadConfig({
        home: home.dir,
        env: { OPENAI_API_KEY: 'wrong-key' },
        overrides: { llm: { providers: { openai: { base_url: strict.openaiBaseUrl } } } },
      });
      const gw = new ModelGateway({ llm: config.llm, cacheDir: config.paths.cache_dir });
      const err = await gw.chat('chat', { ...base, messages: ask('x') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnrecoverableError);
      expect((err as SecretaryError).message).toMatch(/HTTP 401.*OPENAI_API_KEY/);
      expect(strict.requests).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('aborting the signal aborts the HTTP request at once', async () => {
    fake.fail('openai.chat', { hang: true });
    const ac = new AbortController();
    const pending = gateway().chat('chat', { ...base, messages: ask('x'), signal: ac.signal });
    await new Promise((r) => setTimeout(r, 150));
    ac.abort(new Error('cancelled by test'));
    await expect(pending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.requestsOf('openai.chat')[0]!.aborted).toBe(true);
    expect(fake.requestsOf('openai.chat')).toHaveLength(1);
  });

  it('a request over timeout_sec is aborted and retried; then LLM_REQUEST_FAILED says so', async () => {
    fake.fail('openai.chat', { hang: true }, { hang: true }, { hang: true });
    const gw = gateway({ providers: { openai: { timeout_sec: 0.2, max_retries: 1 } } });
    const err = await gw.chat('chat', { ...base, messages: ask('x') }).catch((e: unknown) => e);
    expect((err as SecretaryError).code).toBe('LLM_REQUEST_FAILED');
    expect((err as SecretaryError).message).toMatch(/did not answer in time/);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.requestsOf('openai.chat').map((q) => q.aborted)).toEqual([true, true]);
  });

  it('never has more than max_concurrent requests in flight to one provider', async () => {
    fake.setLatency(120);
    const gw = gateway({ providers: { openai: { max_concurrent: 2 } } });
    await Promise.all(
      Array.from({ length: 7 }, (_, i) => gw.chat('chat', { ...base, messages: ask(`q${i}`) })),
    );
    const spans = fake
      .requestsOf('openai.chat')
      .map((q): [number, number] => [
        Date.parse(q.startedAt),
        Date.parse(q.startedAt) + q.durationMs!,
      ]);
    const peak = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    expect(spans).toHaveLength(7);
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
  });

  it('answers a repeated request from the cache: cost 0, marked, no provider call', async () => {
    const usage = sink();
    const gw = gateway();
    const req = { ...base, messages: ask('cache me'), useCache: true, usage };
    const first = await gw.chat('chat', req);
    const second = await gw.chat('chat', req);
    expect(second.text).toBe(first.text);
    expect(second.fromCache).toBe(true);
    expect(second.cost).toBe(0);
    expect(usage.info!.requests[1]).toMatchObject({ from_cache: true, cost: 0, tokens: 0 });
    expect(fake.requestsOf('openai.chat')).toHaveLength(1);
    await gw.chat('chat', { ...req, useCache: false });
    expect(fake.requestsOf('openai.chat')).toHaveLength(2);
  });

  it('a provider without key on a remote URL is LLM_NOT_CONFIGURED, naming what to set', () => {
    const config = loadConfig({ home: home.dir, env: {} });
    const gw = new ModelGateway({ llm: config.llm, cacheDir: config.paths.cache_dir });
    expect(() => gw.resolve('chat')).toThrow(/OPENAI_API_KEY/);
    expect(gw.isConfigured('chat')).toBe(false);
    try {
      gw.resolve('ocr');
    } catch (err) {
      expect((err as SecretaryError).code).toBe('LLM_NOT_CONFIGURED');
      expect((err as SecretaryError).message).toMatch(/MISTRAL_API_KEY/);
    }
    expect(() => gw.resolve('chat', { provider: 'nope' })).toThrow(/unknown provider/);
  });
});

/** 16-bit mono PCM WAV: `parts` of [frequency Hz (0 = silence), seconds]. */
const wav = (parts: Array<[number, number]>, rate = 16000): Buffer => {
  const samples = parts.reduce((n, [, s]) => n + Math.round(s * rate), 0);
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples * 2, 40);
  let i = 0;
  for (const [f, s] of parts) {
    for (let k = 0; k < Math.round(s * rate); k++, i++) {
      buf.writeInt16LE(
        f ? Math.round(12000 * Math.sin((2 * Math.PI * f * k) / rate)) : 0,
        44 + i * 2,
      );
    }
  }
  return buf;
};

describe('transcription and OCR', () => {
  it('transcribes through the SDK with verbose_json segments, ISO language and per-minute cost', async () => {
    const file = join(home.dir, 'tones.wav');
    writeFileSync(
      file,
      wav([
        [440, 10],
        [0, 5],
        [880, 10],
      ]),
    );
    const usage = sink();
    const r = await gateway().transcribe({ ...base, filePath: file, language: 'de', usage });
    expect(r.text).toBe('Ton 440 Hz. Ton 880 Hz.');
    expect(r.language).toBe('de');
    expect(r.segments.map((s) => s.text)).toEqual(['Ton 440 Hz.', 'Ton 880 Hz.']);
    expect(r.segments[1]!.start).toBe(15);
    // whisper-1: 0.006 USD per minute; 25 s of audio
    expect(r.cost).toBeCloseTo((25 / 60) * 0.006, 8);
    expect(usage.info!.requests[0]).toMatchObject({ audio_seconds: 25, purpose: 'test' });
    expect(fake.requestsOf('openai.transcriptions')[0]!.summary).toMatchObject({
      response_format: 'verbose_json',
      language: 'de',
    });
  });

  it('OCRs a PDF through the Mistral files API and deletes the upload again', async () => {
    const file = join(home.dir, 'doc.pdf');
    writeFileSync(
      file,
      await textPdf([
        ['Erste Seite über Almwiesen.'],
        ['Zweite Seite.'],
        ['Dritte Seite über Lärchen.'],
      ]),
    );
    const usage = sink();
    const r = await gateway().ocr({
      ...base,
      filePath: file,
      pages: [0, 2],
      includeImageBase64: true,
      usage,
    });
    expect(r.pages.map((p) => p.index)).toEqual([0, 2]);
    expect(r.pages[0]!.markdown).toContain('Erste Seite über Almwiesen.');
    expect(r.pages[1]!.markdown).toContain('Lärchen');
    expect(r.pagesProcessed).toBe(2);
    expect(r.cost).toBeCloseTo(0.002, 8);
    expect(usage.info!.requests[0]).toMatchObject({ pages: 2, model: 'mistral-ocr-latest' });
    expect(fake.requestsOf('mistral.files.delete')).toHaveLength(1);
    expect(fake.storedFiles).toBe(0);
  });

  it('returns the embedded images with base64 and references them in the markdown', async () => {
    const file = join(home.dir, 'img.pdf');
    writeFileSync(file, await pdfWithImage());
    const r = await gateway().ocr({ ...base, filePath: file, includeImageBase64: true });
    const images = r.pages.flatMap((p) => p.images);
    expect(images.length).toBeGreaterThan(0);
    expect(images[0]!.id).toBe('img-0.jpeg');
    expect(images[0]!.image_base64).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(r.pages.map((p) => p.markdown).join('\n')).toContain('![img-0.jpeg](img-0.jpeg)');
  });

  it('returns images with a colour-key mask (alpha in the pixmap) as JPEG too', async () => {
    // the kind of image Word's PDF printer writes: RGB with a /Mask colour range, whose
    // pixmap carries alpha, which JPEG cannot hold (the fake used to fail with HTTP 500)
    const doc = await PDFDocument.create();
    const page = doc.addPage([300, 300]);
    const [w, h] = [20, 10];
    const pixels = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) pixels.set(i % 2 ? [0, 50, 50] : [200, 50, 50], i * 3);
    const range = PDFArray.withContext(doc.context);
    for (const n of [0, 10, 40, 60, 40, 60]) range.push(PDFNumber.of(n));
    const image = doc.context.register(
      doc.context.stream(pixels, {
        Type: 'XObject',
        Subtype: 'Image',
        Width: w,
        Height: h,
        ColorSpace: 'DeviceRGB',
        BitsPerComponent: 8,
        Mask: range,
      }),
    );
    const name = page.node.newXObject('Im1', image);
    page.pushOperators(
      pushGraphicsState(),
      concatTransformationMatrix(100, 0, 0, 50, 20, 20),
      drawObject(name),
      popGraphicsState(),
    );
    const file = join(home.dir, 'masked.pdf');
    writeFileSync(file, await doc.save());
    const r = await gateway().ocr({ ...base, filePath: file, includeImageBase64: true });
    const img = r.pages[0]!.images[0]!;
    expect(img.image_base64).toMatch(/^data:image\/jpeg;base64,/);
    const meta = await sharp(Buffer.from(img.image_base64!.split(',')[1]!, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 20, 10]);
  });

  it('an upload the OCR refuses still gets deleted, and the job error is permanent', async () => {
    const file = join(home.dir, 'not.pdf');
    writeFileSync(file, 'just text, not a pdf');
    const err = await gateway()
      .ocr({ ...base, filePath: file, includeImageBase64: false })
      .catch((e: unknown) => e);
    expect((err as SecretaryError).code).toBe('LLM_REQUEST_FAILED');
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(fake.storedFiles).toBe(0);
  });
});
