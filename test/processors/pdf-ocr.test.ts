import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractPdf } from '../../src/processors/pdf/index.js';
import { closeOcrPool } from '../../src/processors/ocr/index.js';
import { closeCpuPool } from '../../src/worker/cpu-pool.js';
import { cer, makeTempDir, scannedPdf, textPdf, writeTemp } from './helpers/make-docs.js';

/** Known German text, no hyphenation at line ends; rendered at 15 pt, scanned at 300 DPI. */
const GERMAN = [
  'Sehr geehrte Damen und Herren,',
  'wir freuen uns über Ihre Anfrage zur Bergwiese.',
  'Die Größe der Fläche beträgt etwa zwölf Hektar.',
  'Im Frühjahr blühen dort Enzian, Krokus und Küchenschelle.',
  'Die Mahd erfolgt spät im Jahr, damit die Samen reifen.',
  'Für Rückfragen stehen wir Ihnen gerne zur Verfügung.',
  'Mit freundlichen Grüßen aus Südtirol',
];

let tmp: { dir: string; cleanup: () => Promise<void> };
let scanned: string;

beforeAll(async () => {
  tmp = await makeTempDir();
  scanned = await writeTemp(
    tmp.dir,
    'scan.pdf',
    await scannedPdf([GERMAN, ['Zweite Seite: Öffnungszeiten täglich.']]),
  );
});

afterAll(async () => {
  await closeOcrPool();
  await closeCpuPool();
  await tmp.cleanup();
});

describe('extractPdf OCR', () => {
  it('reads a scanned German page with a character error rate of at most 3 %', async () => {
    const dir = path.join(tmp.dir, 'ocr');
    const r = await extractPdf({
      filePath: scanned,
      workDir: dir,
      method: 'tesseract_ocr',
      pageEnd: 1,
    });
    const text = r.text_contents[0]?.content ?? '';
    const rate = cer(GERMAN.join('\n'), text);
    expect(rate, `OCR text:\n${text}`).toBeLessThanOrEqual(0.03);
    expect(r.ocr_text).toBe(`\n--- Seite 1 ---\n${text}`);
    expect(r.extracted_text).toBe(r.ocr_text);
    // OCR-only: page_###.txt holds the OCR text; the page picture is kept as image_###.jpg
    expect(r.files.page_texts).toEqual(['page_001.txt']);
    expect(r.files.ocr_texts).toEqual([]);
    expect(r.files.images).toEqual(['image_001.jpg']);
    expect(await readFile(path.join(dir, 'page_001.txt'), 'utf8')).toBe(text);
  });

  it('the scanned PDF has no native text, and `both` keeps native and OCR text apart', async () => {
    const native = await extractPdf({
      filePath: scanned,
      workDir: path.join(tmp.dir, 'nat'),
      method: 'native',
    });
    expect(native.text_contents.every((t) => t.content === '')).toBe(true);

    const file = await writeTemp(
      tmp.dir,
      'text.pdf',
      await textPdf([['Native Zeile über Äpfel und Öl.']], { fontSize: 16 }),
    );
    const dir = path.join(tmp.dir, 'both');
    const r = await extractPdf({ filePath: file, workDir: dir, method: 'both' });
    expect(r.files.page_texts).toEqual(['page_001.txt']);
    expect(r.files.ocr_texts).toEqual(['ocr_page_001.txt']);
    expect(await readFile(path.join(dir, 'page_001.txt'), 'utf8')).toBe(
      'Native Zeile über Äpfel und Öl.',
    );
    const ocr = await readFile(path.join(dir, 'ocr_page_001.txt'), 'utf8');
    expect(cer('Native Zeile über Äpfel und Öl.', ocr)).toBeLessThanOrEqual(0.1);
    const content = r.text_contents[0]?.content ?? '';
    expect(content).toBe(
      `=== Native Text ===\nNative Zeile über Äpfel und Öl.\n\n=== Tesseract OCR ===\n${ocr}`,
    );
    expect(r.extracted_text).toBe(`\n--- Seite 1 ---\n${content}`);
    expect(r.ocr_text).toBe(`\n--- Seite 1 ---\n${ocr}`);
  });

  it('keeps the event loop responsive while pages render and OCR runs', async () => {
    let maxLag = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    try {
      const r = await extractPdf({
        filePath: scanned,
        workDir: path.join(tmp.dir, 'lag'),
        method: 'both',
        includeImages: true,
        includePreviews: true,
        includeHighRes: true,
      });
      expect(r.pages_processed).toBe(2);
    } finally {
      clearInterval(timer);
    }
    // A responsiveness check, not a benchmark: OCR on the main thread would stall it for
    // seconds per page, the 300 DPI + high-res renders of a page for about a second. The
    // bound is generous because test machines are shared and oversubscribed (other test
    // files, Tesseract and pool threads all compete for the cores).
    expect(maxLag).toBeLessThan(500);
  });
});
