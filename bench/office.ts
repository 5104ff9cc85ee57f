/**
 * `npm run bench:office`: office conversion throughput, JSON lines on stdout.
 *   npm run bench:office [-- --quick]
 * - xlsx_read: read-excel-file alone on a generated 10,000-row × 8-column sheet (the number the
 *   XLSX library was chosen on; docs/office.md compares it with exceljs and SheetJS)
 * - office_markdown: the whole conversion task (unzip, parse, Markdown, images) per format
 * - office_job_path: extractOffice with the CPU pool, archive and (with soffice) previews
 * - soffice_pdf: one LibreOffice DOCX → PDF conversion with a fresh profile, and 4 at once
 *   under the process limit of 2
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readXlsxFile from 'read-excel-file/node';
import { convertToPdf, extractOffice } from '../src/processors/office/index.js';
import { officeToMarkdownTask } from '../src/processors/office/office-task.js';
import { closeCpuPool } from '../src/worker/cpu-pool.js';
import { bigSheetRows, docx, makeDocx, makePptx, makeXlsx, solidPng } from '../test/helpers/make-office.js';
import { emit, hasTool, note, round, timeMedian } from './lib/bench-util.js';

const quick = process.argv.includes('--quick');
const reps = quick ? 3 : 7;
const dir = await mkdtemp(path.join(tmpdir(), 'secretary-bench-office-'));
const soffice = { path: 'soffice', timeoutMs: 180_000, maxConcurrent: 2 };

try {
  const png = await solidPng(400, 300);
  note('generating documents');
  const xlsx = path.join(dir, 'big.xlsx');
  await writeFile(xlsx, makeXlsx([{ name: 'Daten', rows: bigSheetRows(10_000, 8) }]));
  const blocks: string[] = [];
  for (let s = 1; s <= 100; s++) {
    blocks.push(docx.heading(1, `Kapitel ${s}`), docx.para('Ein Absatz über Südtirol, Äpfel und Öl. '.repeat(8)));
    blocks.push(docx.item(`Punkt ${s}.1`, 1), docx.item(`Punkt ${s}.2`, 1, 1), docx.item(`Schritt ${s}`, 2));
    if (s % 5 === 0) blocks.push(docx.table(Array.from({ length: 10 }, (_, r) => [`Zeile ${r}`, String(r * s), 'x'])));
    if (s % 10 === 0) blocks.push(docx.image('rIdImg1', `Bild ${s}`, s));
  }
  const docxPath = path.join(dir, 'long.docx');
  await writeFile(docxPath, makeDocx(blocks, { images: [{ name: 'image1.png', bytes: png }] }));
  const pptxPath = path.join(dir, 'deck.pptx');
  await writeFile(
    pptxPath,
    makePptx(
      Array.from({ length: 100 }, (_, i) => ({
        title: `Folie ${i + 1}`,
        bullets: [{ text: 'Ziel' }, { text: 'Detail', level: 1 }, { text: 'Ergebnis' }],
        ...(i % 10 === 0 ? { table: [['a', 'b'], ['1', '2']], image: { name: 'image1.png', bytes: png } } : {}),
        notes: `Notiz ${i + 1}`,
      })),
    ),
  );

  let rows = 0;
  const readMs = await timeMedian(reps, async () => {
    const sheets = await readXlsxFile(xlsx);
    rows = sheets[0]!.data.length;
  });
  emit({ bench: 'xlsx_read', library: 'read-excel-file', rows, cols: 8, median_ms: round(readMs, 1), reps });

  for (const [format, file] of [['xlsx', xlsx], ['docx', docxPath], ['pptx', pptxPath]] as const) {
    let chars = 0;
    const ms = await timeMedian(reps, async () => {
      const r = await officeToMarkdownTask({ filePath: file, outDir: path.join(dir, `md-${format}`), includeImages: true, maxSheetRows: 10_000, maxUnpackedBytes: 1 << 30 });
      if (!r.ok) throw new Error(r.message);
      chars = r.value.markdown.length;
    });
    emit({ bench: 'office_markdown', format, median_ms: round(ms, 1), markdown_chars: chars, reps });
  }

  // the first pool task starts the worker threads and loads mammoth & co. there: measured apart
  const warm = path.join(dir, 'warm.docx');
  await writeFile(warm, makeDocx([docx.para('warm-up')]));
  const c0 = performance.now();
  await extractOffice({ filePath: warm, workDir: path.join(dir, 'warm'), originalName: 'warm.docx', includeImages: false, includePreviews: false, soffice });
  emit({ bench: 'office_job_path', cold_start_ms: round(performance.now() - c0, 0) });

  const withSoffice = hasTool('soffice');
  if (!withSoffice) note('soffice not installed: previews and soffice_pdf are skipped');
  for (const [format, file] of [['docx', docxPath], ['pptx', pptxPath]] as const) {
    for (const previews of withSoffice ? [false, true] : [false]) {
      const t0 = performance.now();
      const r = await extractOffice({ filePath: file, workDir: path.join(dir, `job-${format}-${previews}`), originalName: path.basename(file), includeImages: true, includePreviews: previews, maxPreviewPages: 50, soffice });
      emit({ bench: 'office_job_path', format, previews, ms: round(performance.now() - t0, 0), preview_count: r.previews.length, image_count: r.images.length });
    }
  }

  if (withSoffice) {
    const small = path.join(dir, 'small.docx');
    await writeFile(small, makeDocx([docx.heading(1, 'Kurz'), docx.para('Ein Absatz.')]));
    const one = await timeMedian(quick ? 2 : 3, () => convertToPdf(small, path.join(dir, 'one.pdf'), soffice));
    emit({ bench: 'soffice_pdf', docs: 1, concurrent: 1, median_ms: round(one, 0) });
    const t0 = performance.now();
    await Promise.all([1, 2, 3, 4].map((i) => convertToPdf(small, path.join(dir, `many-${i}.pdf`), soffice)));
    emit({ bench: 'soffice_pdf', docs: 4, limit: soffice.maxConcurrent, wall_ms: round(performance.now() - t0, 0) });
  }
} finally {
  await closeCpuPool();
  await rm(dir, { recursive: true, force: true });
}
