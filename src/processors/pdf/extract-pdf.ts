/**
 * PDF extraction: native text, Tesseract OCR, page images, previews, embedded images and
 * archives for one PDF. Pure processing: file in, files + a plain result out.
 *
 * All MuPDF and sharp work runs on the CPU pool, OCR on the Tesseract pool; the main thread
 * only schedules, writes text files and streams archives, so the event loop stays free.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SecretaryError } from '../../core/errors.js';
import { abortError, mapLimited, throwIfAborted } from '../abort.js';
import { getOcrPool } from '../ocr/tesseract-pool.js';
import type { TesseractPool } from '../ocr/tesseract-pool.js';
import { createStagedDir, pad3 } from '../work-dir.js';
import { getCpuPool } from '../../worker/cpu-pool.js';
import type { CpuPool } from '../../worker/cpu-pool.js';
import { composePageText, planMethod } from './method-plan.js';
import type { MethodPlan } from './method-plan.js';
import type { PdfPageOutput, PdfPagesTask } from './page-tasks-types.js';
import { openPdfRange, pdfMetadata, PDF_IMAGE_SPECS, safeProgress } from './pdf-input.js';
import { runPdfPages } from './pdf-tasks.js';
import { writeArchives } from './pdf-archives.js';
import { cleanPageText, joinPages } from './text.js';
import { emptyPdfFiles, type ExtractPdfOptions, type PdfMetadata, type PdfResult } from './types.js';

export { PDF_IMAGE_SPECS, DEFAULT_MAX_PAGES, DEFAULT_MAX_FILE_SIZE } from './pdf-input.js';

/** Pools can be injected (tests, benchmarks); by default the process-wide ones are used. */
export interface PdfProcessorDeps {
  cpuPool?: CpuPool;
  ocrPool?: TesseractPool;
}

interface PageTexts {
  native: string | null;
  ocr: string | null;
  llm: string | null;
}

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const stripFences = (md: string): string =>
  md
    .replace(/^\s*```(?:markdown|md)?\s*\n/i, '')
    .replace(/\n```\s*$/, '')
    .trim();

export const extractPdf = async (
  opts: ExtractPdfOptions,
  deps: PdfProcessorDeps = {},
): Promise<PdfResult> => {
  const { signal } = opts;
  const plan: MethodPlan = planMethod(opts.method, opts.llm !== undefined);
  const progress = safeProgress(opts.onProgress);
  const cpuPool = deps.cpuPool ?? getCpuPool();
  throwIfAborted(signal);

  const { info, first, last, total } = await openPdfRange(opts, cpuPool);
  const spec = { ...PDF_IMAGE_SPECS.vision, dpi: opts.visionDpi ?? PDF_IMAGE_SPECS.vision.dpi };

  const includeImages = opts.includeImages ?? false;
  const wantPreview = plan.preview || (opts.includePreviews ?? false);
  const ocrPool = plan.ocr ? (deps.ocrPool ?? getOcrPool()) : null;
  const ocrDpi = opts.ocrDpi ?? 300;
  const staged = await createStagedDir(opts.workDir);
  try {
    const baseTask: Omit<PdfPagesTask, 'pages'> = {
      filePath: opts.filePath,
      outDir: staged.tempDir,
      text: plan.native,
      // The main image is rendered only when it is an artefact someone asked for (OCR jobs
      // keep it as the page picture, like the original), not for plain native text.
      main: includeImages || plan.ocr ? PDF_IMAGE_SPECS.main : null,
      preview: wantPreview ? PDF_IMAGE_SPECS.preview : null,
      highRes: opts.includeHighRes ? PDF_IMAGE_SPECS.highRes : null,
      embeddedImages: includeImages,
      ocrDpi: plan.ocr ? ocrDpi : null,
      vision: plan.llm ? spec : null,
    };
    const renders =
      baseTask.main ?? baseTask.preview ?? baseTask.highRes ?? baseTask.ocrDpi ?? baseTask.vision;
    const pages = Array.from({ length: total }, (_, i) => first + i);
    // Text-only work is cheap per page: batch pages to save messaging; renders go one by one.
    const perTask = renders
      ? 1
      : Math.max(1, Math.min(16, Math.ceil(total / (cpuPool.threads * 4))));
    // a lane waiting for the vision model holds no CPU: give the model its own lanes
    const visionLanes = opts.llm ? Math.max(1, opts.llm.concurrency ?? 1) : 0;
    const lanes = cpuPool.threads + (ocrPool ? ocrPool.size : 1) + visionLanes;

    const outputs = new Map<number, { out: PdfPageOutput; texts: PageTexts }>();
    let done = 0;
    progress(`processing_pages:0/${total}`, 10, `Seite 0 von ${total}`);

    await mapLimited(
      chunk(pages, perTask),
      lanes,
      async (group) => {
        const results = await runPdfPages({ ...baseTask, pages: group }, signal, cpuPool);
        for (const out of results) {
          if (out.error !== null) {
            throw new SecretaryError(
              'CORRUPT_FILE',
              `page ${out.page} cannot be read: ${out.error}`,
              {
                page: out.page,
              },
            );
          }
          const texts: PageTexts = {
            native: out.text === null ? null : cleanPageText(out.text),
            ocr: null,
            llm: null,
          };
          if (ocrPool && out.ocrImage) {
            const r = await ocrPool.recognize({
              image: out.ocrImage,
              dpi: ocrDpi,
              ...(signal ? { signal } : {}),
            });
            texts.ocr = cleanPageText(r.text);
          }
          if (opts.llm && out.visionImage) {
            const r = await opts.llm.pageToMarkdown({
              image: out.visionImage,
              mimeType: 'image/jpeg',
              page: out.page,
              signal: signal ?? new AbortController().signal,
            });
            texts.llm = stripFences(r.markdown);
          }
          out.ocrImage = null;
          out.visionImage = null;
          outputs.set(out.page, { out, texts });
          done++;
          progress(
            `processing_pages:${done}/${total}`,
            10 + Math.floor((80 * done) / total),
            `Seite ${done} von ${total}`,
          );
        }
      },
      signal,
    );
    throwIfAborted(signal);

    progress('postprocessing', 90, 'Dateien werden geschrieben');
    const files = emptyPdfFiles();
    const textContents: Array<{ page: number; content: string }> = [];
    const ocrPages: Array<{ page: number; content: string }> = [];
    const textWrites: Promise<void>[] = [];
    const put = (name: string, content: string): void => {
      textWrites.push(writeFile(path.join(staged.tempDir, name), content, 'utf8'));
    };
    for (const pageNo of pages) {
      const entry = outputs.get(pageNo);
      if (!entry) continue;
      const { out, texts } = entry;
      const n = pad3(pageNo);
      const content = composePageText(plan, texts);
      if (content !== null) textContents.push({ page: pageNo, content });
      // page_###.txt holds the primary text (native, else LLM, else OCR); OCR next to another
      // text source goes to its own ocr_page_###.txt instead of overwriting it.
      const source = texts.native !== null ? 'native' : texts.llm !== null ? 'llm' : 'ocr';
      const primary = texts[source];
      if (primary !== null) {
        put(`page_${n}.txt`, primary);
        files.page_texts.push(`page_${n}.txt`);
      }
      if (texts.ocr !== null) {
        ocrPages.push({ page: pageNo, content: texts.ocr });
        if (source !== 'ocr') {
          put(`ocr_page_${n}.txt`, texts.ocr);
          files.ocr_texts.push(`ocr_page_${n}.txt`);
        }
      }
      if (texts.llm !== null && source !== 'llm') {
        put(`llm_page_${n}.txt`, texts.llm);
      }
      if (out.main) files.images.push(out.main);
      if (out.preview) files.previews.push(out.preview);
      if (out.highRes) files.high_res.push(out.highRes);
      files.embedded_images.push(...out.embedded);
    }
    await Promise.all(textWrites);
    progress('postprocessing', 93, 'Archive werden erstellt');
    files.archives = await writeArchives({
      dir: staged.tempDir,
      files,
      previewsZip: files.previews.length > 0,
      pagesZip: (opts.includeHighRes ?? false) || (opts.includePreviews ?? false),
      imagesZip: includeImages,
      stem: path.parse(opts.originalName ?? opts.filePath).name,
      ...(signal ? { signal } : {}),
    });
    throwIfAborted(signal);
    await staged.commit();
    progress('postprocessing', 98, 'Fertig');

    const metadata: PdfMetadata = pdfMetadata(info);
    const hasText = plan.native || plan.ocr || plan.llm;
    return {
      page_count: info.page_count,
      pages_processed: total,
      page_start: first,
      page_end: last,
      text_contents: textContents,
      extracted_text: hasText ? joinPages(textContents) : null,
      ocr_text: plan.ocr ? joinPages(ocrPages) : null,
      files,
      metadata,
      method: opts.method,
    };
  } catch (err) {
    await staged.discard();
    if (signal?.aborted) throw abortError(signal);
    throw err;
  }
};
