/**
 * PDF benchmarks: native text throughput, preview rendering, OCR speed and accuracy.
 *
 *   node --import tsx bench/pdf.ts [--quick]
 *
 * stdout carries only JSON lines; progress and notes go to stderr. Engines that are not
 * installed (poppler's pdftotext/pdftoppm) are skipped. Inputs: the real 32-page
 * `../shared/fixtures/test2.pdf` (read in place, never copied; skipped when absent) and a
 * generated 300-page PDF. Secretary numbers are measured with warm worker threads (the cold
 * start is reported as `cold_ms`).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { extractPdf } from '../src/processors/pdf/index.js';
import { closeOcrPool } from '../src/processors/ocr/index.js';
import { closeCpuPool, getCpuPool } from '../src/worker/cpu-pool.js';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { cer, scannedPdf } from '../test/processors/helpers/make-docs.js';
import { emit, hasTool, median, note, round, runTool, timeMedian } from './lib/bench-util.js';
import { benchOverload } from './lib/pdf-overload.js';

const QUICK = process.argv.includes('--quick');
const FIXTURE = path.resolve(import.meta.dirname, '../../shared/fixtures/test2.pdf');

interface Input {
  name: string;
  file: string;
  pages: number;
}

const LOREM = [
  'Die Bergwiesen Südtirols gehören zu den artenreichsten Lebensräumen der Alpen.',
  'Ihre Pflege verlangt eine späte Mahd, damit Enzian und Arnika Samen bilden können.',
  'Düngung verändert die Zusammensetzung der Arten schon nach wenigen Jahren deutlich.',
];

const generatedPdf = async (dir: string, pages: number): Promise<Input> => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= pages; p++) {
    const text = Array.from(
      { length: 36 },
      (_, l) => `${p}.${l + 1} ${LOREM[l % LOREM.length] ?? ''}`,
    ).join('\n');
    doc.addPage([595.28, 841.89]).drawText(text, { x: 50, y: 780, size: 10, lineHeight: 15, font });
  }
  const file = path.join(dir, `generated-${pages}.pdf`);
  await writeFile(file, await doc.save());
  return { name: `generated-${pages}.pdf`, file, pages };
};

let runs = 0;
const workDir = (dir: string): string => path.join(dir, 'work', `run-${++runs}`);

const benchText = async (input: Input, dir: string): Promise<void> => {
  const secretary = () =>
    extractPdf({ filePath: input.file, workDir: workDir(dir), method: 'native' });
  const out = path.join(dir, 'pdftotext.txt');
  const poppler = hasTool('pdftotext')
    ? () => runTool('pdftotext', ['-enc', 'UTF-8', input.file, out])
    : null;
  if (!poppler) note('pdftotext not installed: skipped (apt-get install poppler-utils)');
  const t0 = performance.now();
  await secretary();
  const cold = performance.now() - t0;
  await poppler?.();
  // Interleaved repetitions: both engines see the same machine load (it is shared and noisy).
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < (QUICK ? 3 : 11); i++) {
    ours.push(await timeMedian(1, secretary));
    if (poppler) theirs.push(await timeMedian(1, poppler));
  }
  emit({
    bench: 'pdf_text',
    engine: 'secretary',
    file: input.name,
    pages: input.pages,
    pages_per_s: round((input.pages * 1000) / median(ours), 1),
    threads: getCpuPool().threads,
    cold_ms: round(cold, 0),
    load1: round(loadavg()[0] ?? 0, 1),
  });
  if (poppler) {
    emit({
      bench: 'pdf_text',
      engine: 'pdftotext',
      file: input.name,
      pages: input.pages,
      pages_per_s: round((input.pages * 1000) / median(theirs), 1),
    });
  }
};

const benchRender = async (input: Input, dir: string): Promise<void> => {
  const pages = QUICK ? Math.min(input.pages, 32) : input.pages;
  const reps = 3;
  const render = () =>
    extractPdf({ filePath: input.file, workDir: workDir(dir), method: 'preview', pageEnd: pages });
  await render(); // warm: glyph caches and decoded images of every thread
  const ms = await timeMedian(reps, render);
  emit({
    bench: 'pdf_render',
    engine: 'secretary',
    file: input.name,
    pages,
    size: 360,
    ms_per_page: round(ms / pages, 1),
    threads: getCpuPool().threads,
  });
  if (hasTool('pdftoppm')) {
    await mkdir(path.join(dir, 'ppm'), { recursive: true });
    const prefix = path.join(dir, 'ppm', 'p');
    const pms = await timeMedian(reps, () =>
      runTool('pdftoppm', [
        '-jpeg',
        '-jpegopt',
        'quality=80',
        '-scale-to',
        '360',
        '-l',
        String(pages),
        input.file,
        prefix,
      ]),
    );
    emit({
      bench: 'pdf_render',
      engine: 'pdftoppm',
      file: input.name,
      pages,
      size: 360,
      ms_per_page: round(pms / pages, 1),
    });
  } else {
    note('pdftoppm not installed: skipped');
  }
};

const OCR_TEXT = [
  'Sehr geehrte Damen und Herren,',
  'wir freuen uns über Ihre Anfrage zur Bergwiese.',
  'Die Größe der Fläche beträgt etwa zwölf Hektar.',
  'Im Frühjahr blühen dort Enzian, Krokus und Küchenschelle.',
  'Die Mahd erfolgt spät im Jahr, damit die Samen reifen.',
  'Für Rückfragen stehen wir Ihnen gerne zur Verfügung.',
];

const benchOcr = async (dir: string): Promise<void> => {
  const pages = QUICK ? 1 : 6;
  const file = path.join(dir, 'scan.pdf');
  await writeFile(file, await scannedPdf(Array.from({ length: pages }, () => OCR_TEXT)));
  // warm the Tesseract workers (language data load) outside the measurement
  await extractPdf({ filePath: file, workDir: workDir(dir), method: 'ocr', pageEnd: 1 });
  const t0 = performance.now();
  const r = await extractPdf({ filePath: file, workDir: workDir(dir), method: 'ocr' });
  const ms = performance.now() - t0;
  const rates = r.text_contents.map((t) => cer(OCR_TEXT.join('\n'), t.content));
  emit({
    bench: 'ocr',
    engine: 'secretary',
    pages,
    dpi: 300,
    s_per_page: round(ms / 1000 / pages, 2),
    cer: round(rates.reduce((a, b) => a + b, 0) / rates.length, 4),
  });
};


const main = async (): Promise<void> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'secretary-bench-pdf-'));
  try {
    const inputs: Input[] = [];
    if (existsSync(FIXTURE)) inputs.push({ name: 'test2.pdf', file: FIXTURE, pages: 32 });
    else note(`fixture ${FIXTURE} not found: skipped`);
    note('generating a 300-page PDF');
    inputs.push(await generatedPdf(dir, 300));
    for (const input of inputs) {
      note(`text: ${input.name}`);
      await benchText(input, dir);
    }
    for (const input of inputs) {
      note(`render: ${input.name}`);
      await benchRender(input, dir);
    }
    note('ocr');
    await benchOcr(dir);
    note('overload');
    await benchOverload(QUICK ? 50 : 200, QUICK ? 2 : 5);
  } finally {
    await closeOcrPool();
    await closeCpuPool();
    await rm(dir, { recursive: true, force: true });
  }
};

await main();
