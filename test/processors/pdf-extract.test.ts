import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import { extractPdf } from '../../src/processors/pdf/index.js';
import type { ExtractPdfOptions } from '../../src/processors/pdf/index.js';
import { closeCpuPool } from '../../src/worker/cpu-pool.js';
import {
  emptyPdf,
  encryptPdf,
  makeTempDir,
  manyPagesPdf,
  pdfWithImage,
  textPdf,
  writeTemp,
} from './helpers/make-docs.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let threePages: string;
let counter = 0;
const workDir = (): string => path.join(tmp.dir, 'work', `run-${++counter}`);

const run = (filePath: string, extra: Partial<ExtractPdfOptions> = {}) =>
  extractPdf({ filePath, workDir: workDir(), method: 'native', ...extra });

const expectCode = async (p: Promise<unknown>, code: string): Promise<SecretaryError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretaryError);
  expect((err as SecretaryError).code).toBe(code);
  return err as SecretaryError;
};

const PAGES = [
  ['Grüße aus Köln: Äpfel, Öl, Übermut und Straße.', 'Die Blüten-', 'pracht ist groß.'],
  ['Zweite Seite mit Maß und Fuß.'],
  ['Dritte Seite: schön früh.'],
  ['Vierte Seite, letzte.'],
];

beforeAll(async () => {
  tmp = await makeTempDir();
  threePages = await writeTemp(
    tmp.dir,
    'vier.pdf',
    await textPdf(PAGES, { title: 'Testdokument', author: 'Frau Müller' }),
  );
});

afterAll(async () => {
  await closeCpuPool();
  await tmp.cleanup();
});

describe('extractPdf native', () => {
  it('extracts text with umlauts, page markers, page files and metadata', async () => {
    const steps: Array<[string, number]> = [];
    const dir = workDir();
    const r = await extractPdf({
      filePath: threePages,
      workDir: dir,
      method: 'native',
      onProgress: (step, pct) => steps.push([step, pct]),
    });
    expect(r.page_count).toBe(4);
    expect(r.pages_processed).toBe(4);
    expect(r.text_contents.map((t) => t.page)).toEqual([1, 2, 3, 4]);
    expect(r.text_contents[0]?.content).toContain('Grüße aus Köln: Äpfel, Öl, Übermut und Straße.');
    // dehyphenation of a lower-case continuation
    expect(r.text_contents[0]?.content).toContain('Blütenpracht ist groß.');
    expect(r.extracted_text).toBe(
      r.text_contents.map((t) => `\n--- Seite ${t.page} ---\n${t.content}`).join(''),
    );
    expect(r.extracted_text?.startsWith('\n--- Seite 1 ---\nGrüße')).toBe(true);
    expect(r.ocr_text).toBeNull();
    expect(r.files.page_texts).toEqual([
      'page_001.txt',
      'page_002.txt',
      'page_003.txt',
      'page_004.txt',
    ]);
    expect(await readFile(path.join(dir, 'page_002.txt'), 'utf8')).toBe(
      'Zweite Seite mit Maß und Fuß.',
    );
    // native text needs no page images
    expect(r.files.images).toEqual([]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.jpg'))).toEqual([]);
    expect(r.metadata).toMatchObject({
      title: 'Testdokument',
      author: 'Frau Müller',
      format: 'pdf',
      encrypted: false,
      page_count: 4,
    });
    expect(r.metadata.creation_date).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(JSON.stringify(r)).not.toMatch(/base64/);
    // progress: processing_pages:i/n within 10..90, then postprocessing 90..98, monotonic
    expect(steps[0]).toEqual(['processing_pages:0/4', 10]);
    expect(steps).toContainEqual(['processing_pages:4/4', 90]);
    expect(steps.at(-1)).toEqual(['postprocessing', 98]);
    const pcts = steps.map(([, p]) => p);
    expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
    // the temp dir was renamed away
    expect((await readdir(path.dirname(dir))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('honours and clamps the page range for every method', async () => {
    const r = await run(threePages, { pageStart: 2, pageEnd: 3 });
    expect(r.pages_processed).toBe(2);
    expect(r.text_contents.map((t) => t.page)).toEqual([2, 3]);
    expect(r.extracted_text?.startsWith('\n--- Seite 2 ---\n')).toBe(true);
    expect(r.files.page_texts).toEqual(['page_002.txt', 'page_003.txt']);

    const clamped = await run(threePages, { pageStart: 3, pageEnd: 99 });
    expect([clamped.page_start, clamped.page_end, clamped.pages_processed]).toEqual([3, 4, 2]);

    const previews = await run(threePages, { method: 'preview', pageStart: 4 });
    expect(previews.files.previews).toEqual(['preview_004.jpg']);
    expect(previews.extracted_text).toBeNull();

    await expectCode(run(threePages, { pageStart: 4, pageEnd: 2 }), 'INVALID_PARAMETERS');
  });

  it('replaces an existing work dir atomically', async () => {
    const dir = workDir();
    await extractPdf({ filePath: threePages, workDir: dir, method: 'preview' });
    await extractPdf({ filePath: threePages, workDir: dir, method: 'native', pageEnd: 1 });
    expect((await readdir(dir)).sort()).toEqual(['page_001.txt']);
  });
});

describe('extractPdf images', () => {
  it('writes main images, previews, high-res pages, embedded images and archives', async () => {
    const file = await writeTemp(tmp.dir, 'bild.pdf', await pdfWithImage());
    const dir = workDir();
    const r = await extractPdf({
      filePath: file,
      workDir: dir,
      method: 'preview_and_native',
      includeImages: true,
      includeHighRes: true,
      originalName: 'Mein Bericht.pdf',
    });
    expect(r.files.images).toEqual(['image_001.jpg']);
    expect(r.files.previews).toEqual(['preview_001.jpg']);
    expect(r.files.high_res).toEqual(['page_001.jpeg']);
    expect(r.files.embedded_images.sort()).toEqual(['embedded_001_01.png', 'embedded_001_02.jpg']);
    expect(r.text_contents[0]?.content).toContain('Bild mit Beschriftung');

    const main = await sharp(path.join(dir, 'image_001.jpg')).metadata();
    expect(main.format).toBe('jpeg');
    expect(Math.max(main.width, main.height)).toBe(1280);
    expect(Math.min(main.width, main.height)).toBeGreaterThan(800);
    const preview = await sharp(path.join(dir, 'preview_001.jpg')).metadata();
    expect(Math.max(preview.width, preview.height)).toBe(360);
    const high = await sharp(path.join(dir, 'page_001.jpeg')).metadata();
    expect(Math.abs(high.width - 1654)).toBeLessThanOrEqual(2); // A4 at 200 DPI
    expect(Math.abs(high.height - 2339)).toBeLessThanOrEqual(2);
    const embedded = await sharp(path.join(dir, 'embedded_001_01.png')).metadata();
    expect([embedded.width, embedded.height]).toEqual([200, 120]);

    expect(r.files.archives).toEqual({
      previews: 'previews.zip',
      pages: 'pages.zip',
      images: 'Mein_Bericht_images.zip',
    });
    const entries = async (name: string) =>
      Object.keys(unzipSync(await readFile(path.join(dir, name)))).sort();
    expect(await entries('previews.zip')).toEqual(['preview_001.jpg']);
    expect(await entries('pages.zip')).toEqual(['page_001.jpeg', 'preview_001.jpg']);
    expect(await entries('Mein_Bericht_images.zip')).toEqual([
      'embedded_001_01.png',
      'embedded_001_02.jpg',
      'image_001.jpg',
      'preview_001.jpg',
    ]);
    const unzipped = unzipSync(await readFile(path.join(dir, 'previews.zip')));
    expect(
      Buffer.from(unzipped['preview_001.jpg'] as Uint8Array).equals(
        await readFile(path.join(dir, 'preview_001.jpg')),
      ),
    ).toBe(true);
  });
});

describe('extractPdf errors', () => {
  it('CORRUPT_FILE for truncated bytes and garbage', async () => {
    const pdf = await textPdf(PAGES);
    for (const frac of [0.5, 0.9]) {
      const file = await writeTemp(
        tmp.dir,
        `truncated-${frac}.pdf`,
        pdf.slice(0, Math.floor(pdf.length * frac)),
      );
      await expectCode(run(file), 'CORRUPT_FILE');
    }
    const garbage = await writeTemp(
      tmp.dir,
      'garbage.pdf',
      Buffer.from('%PDF-1.7\nnot really a pdf\n'),
    );
    await expectCode(run(garbage), 'CORRUPT_FILE');
  });

  it('ENCRYPTED_FILE for a password-protected PDF; an owner-only password is fine', async () => {
    const pdf = await textPdf(PAGES);
    const locked = await writeTemp(tmp.dir, 'locked.pdf', encryptPdf(pdf, 'geheim'));
    await expectCode(run(locked), 'ENCRYPTED_FILE');
    const ownerOnly = await writeTemp(tmp.dir, 'owner-only.pdf', encryptPdf(pdf, null));
    const r = await run(ownerOnly);
    expect(r.metadata.encrypted).toBe(true);
    expect(r.text_contents[1]?.content).toBe('Zweite Seite mit Maß und Fuß.');
  });

  it('CORRUPT_FILE (no_pages) for a PDF with zero pages', async () => {
    const file = await writeTemp(tmp.dir, 'empty.pdf', await emptyPdf());
    const err = await expectCode(run(file), 'CORRUPT_FILE');
    expect(err.details).toEqual({ reason: 'no_pages' });
  });

  it('TOO_MANY_PAGES above maxPages, unless a page range stays below it', async () => {
    const file = await writeTemp(tmp.dir, 'huge.pdf', await manyPagesPdf(600));
    const err = await expectCode(run(file, { maxPages: 500 }), 'TOO_MANY_PAGES');
    expect(err.details).toMatchObject({ pages: 600, max_pages: 500 });
    const r = await run(file, { maxPages: 500, pageStart: 590 });
    expect(r.text_contents.map((t) => t.content)).toEqual(
      Array.from({ length: 11 }, (_, i) => `Seite ${590 + i} von 600`),
    );
  });

  it('UNSUPPORTED_FILE for a PNG named .pdf, FILE_NOT_FOUND for a missing file', async () => {
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const file = await writeTemp(tmp.dir, 'bild.pdf', png);
    const err = await expectCode(run(file), 'UNSUPPORTED_FILE');
    expect(err.details).toEqual({ detected: 'png' });
    await expectCode(run(path.join(tmp.dir, 'missing.pdf')), 'FILE_NOT_FOUND');
    await expectCode(run(threePages, { maxFileSize: 100 }), 'FILE_TOO_LARGE');
  });

  it('LLM_NOT_CONFIGURED for LLM methods without a provider; Mistral methods belong to mistralOcrPdf', async () => {
    for (const method of ['llm', 'llm_and_native', 'llm_and_ocr'] as const) {
      await expectCode(run(threePages, { method }), 'LLM_NOT_CONFIGURED');
    }
    for (const method of [
      'mistral_ocr',
      'mistral_ocr_with_pages',
      'preview_and_mistral_ocr',
    ] as const) {
      await expectCode(run(threePages, { method }), 'INVALID_PARAMETERS');
    }
    await expectCode(run(threePages, { method: 'combined' as never }), 'INVALID_PARAMETERS');
  });

  it('stops quickly on abort, rethrows the reason and leaves no directory behind', async () => {
    const file = await writeTemp(tmp.dir, 'abort.pdf', await manyPagesPdf(120));
    const dir = workDir();
    const ac = new AbortController();
    const reason = new SecretaryError('PROCESSING_TIMEOUT', 'too slow');
    const started = Date.now();
    const p = extractPdf({
      filePath: file,
      workDir: dir,
      method: 'preview',
      includeHighRes: true,
      signal: ac.signal,
      onProgress: (step) => {
        if (step === 'processing_pages:3/120') ac.abort(reason);
      },
    });
    await expect(p).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(existsSync(dir)).toBe(false);
    expect((await readdir(path.dirname(dir))).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const ac2 = new AbortController();
    ac2.abort();
    await expectCode(run(file, { signal: ac2.signal }), 'CANCELLED');
  });
});
