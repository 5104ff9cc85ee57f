/**
 * Mistral OCR of a PDF (`mistral_ocr`, `mistral_ocr_with_pages`, `preview_and_mistral_ocr`):
 * the page range goes to the OCR API in chunks while the page images (previews, 200-DPI pages)
 * are rendered on the CPU pool at the same time. Writes into the work dir:
 * - `page_###.txt`: each page's Markdown;
 * - `mistral_ocr_images.zip`: the images the OCR found, named exactly as the Markdown
 *   references them (`![img-0.jpeg](img-0.jpeg)`), extension from the bytes;
 * - `mistral_ocr_raw.json`: the OCR answer (all chunks, real page indexes) without base64;
 * - `pages.zip`: `preview_###.jpg` (fit 360, q80) and/or `page_###.jpeg` (200 DPI, q85).
 * Pure processing: the provider call comes in as `ocr` (the handler binds the gateway).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { coerceError, SecretaryError } from '../../core/errors.js';
import { getCpuPool } from '../../worker/cpu-pool.js';
import type { CpuPool } from '../../worker/cpu-pool.js';
import { writeZip } from '../archive/zip-writer.js';
import { abortError, mapLimited, throwIfAborted } from '../abort.js';
import { createStagedDir, pad3 } from '../work-dir.js';
import { fileSize, runOcrChunks, type ChunkReport, type OcrCaller } from './mistral-ocr-chunks.js';
import { absorbOcrPages, finalizeOcrPages, type OcrPageRecord } from './mistral-ocr-pages.js';
import type { PdfPageOutput, PdfPagesTask } from './page-tasks-types.js';
import { writeArchives } from './pdf-archives.js';
import { openPdfRange, pdfMetadata, PDF_IMAGE_SPECS, safeProgress } from './pdf-input.js';
import { runPdfPages } from './pdf-tasks.js';
import { joinPages } from './text.js';
import { emptyPdfFiles, type MistralMethod, type PdfResult, type ProgressCallback } from './types.js';

export type { OcrCaller } from './mistral-ocr-chunks.js';

export const MISTRAL_RAW_FILE = 'mistral_ocr_raw.json';
export const MISTRAL_IMAGES_ZIP = 'mistral_ocr_images.zip';

export interface MistralOcrPdfOptions {
  filePath: string;
  /** Final output directory (written into a temp sibling and renamed onto it at the end). */
  workDir: string;
  method: MistralMethod;
  /** First page, 1-based, inclusive; clamped to the document. Default: 1. */
  pageStart?: number | null;
  /** Last page, 1-based, inclusive; clamped to the document. Default: the last page. */
  pageEnd?: number | null;
  /** Most pages one run may process. Default: 500. */
  maxPages?: number;
  /** Largest PDF accepted, in bytes. Default: 150 MB. */
  maxFileSize?: number;
  /** Ask for the images' base64 and build `mistral_ocr_images.zip`. Default: true. */
  includeOcrImages?: boolean;
  /** `preview_###.jpg` into `pages.zip`. Default: false. */
  includePreviews?: boolean;
  /** `page_###.jpeg` (200 DPI) into `pages.zip`. Default: false. */
  includeHighRes?: boolean;
  /** One OCR request (upload, `/ocr`, delete) of the provider. */
  ocr: OcrCaller;
  /** OCR requests in flight at once for this document (the provider's limit). Default: 4. */
  concurrency?: number;
  /** Most pages per OCR request. Default: 50. */
  maxPagesPerRequest?: number;
  /** Largest upload per OCR request, in bytes. Default: 50 MB. */
  maxRequestBytes?: number;
  /** Extra attempts of a chunk whose answer does not fit the pages asked. Default: 1. */
  chunkRetries?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface MistralOcrInfo {
  /** The OCR model that answered. */
  model: string | null;
  /** Pages in the OCR answer. */
  pages_count: number;
  /** Summed over all requests. */
  usage_info: { pages_processed: number; doc_size_bytes: number | null };
  /** One entry per OCR request, in page order. */
  requests: ChunkReport[];
  /** Relative to the work dir. */
  raw_file: string;
  /** Relative to the work dir; null when the OCR found no images (or they were not asked for). */
  images_archive: string | null;
  image_count: number;
  /** Images the Markdown references but the API sent no data for. */
  missing_images: string[];
}

export interface MistralOcrPdfResult extends PdfResult {
  mistral: MistralOcrInfo;
}

export interface MistralOcrDeps {
  cpuPool?: CpuPool;
}

const range = (first: number, last: number): number[] =>
  Array.from({ length: last - first + 1 }, (_, i) => first + i);

export const mistralOcrPdf = async (
  opts: MistralOcrPdfOptions,
  deps: MistralOcrDeps = {},
): Promise<MistralOcrPdfResult> => {
  const pool = deps.cpuPool ?? getCpuPool();
  const progress = safeProgress(opts.onProgress);
  const outer = opts.signal ?? new AbortController().signal;
  throwIfAborted(outer);
  const { info, first, last, total } = await openPdfRange(opts, pool);
  const includeImages = opts.includeOcrImages ?? true;
  const preview = opts.includePreviews ? PDF_IMAGE_SPECS.preview : null;
  const highRes = opts.includeHighRes ? PDF_IMAGE_SPECS.highRes : null;
  const pages = range(first, last);
  const staged = await createStagedDir(opts.workDir);
  const tmpDir = path.join(staged.tempDir, '.ocr-tmp');
  // OCR and rendering run side by side; the first failure of either stops the other
  const stop = new AbortController();
  const signal = AbortSignal.any([outer, stop.signal]);
  let failure: Error | null = null;
  const guard = <T>(work: () => Promise<T>): Promise<T> =>
    work().catch((err: unknown) => {
      failure ??= coerceError(err);
      if (!stop.signal.aborted) stop.abort(failure);
      throw failure;
    });
  try {
    await mkdir(tmpDir, { recursive: true });
    const renderTotal = preview || highRes ? total : 0;
    let ocrDone = 0;
    let renderDone = 0;
    const report = (): void => {
      const done = ocrDone + renderDone;
      progress(
        `mistral_ocr:${ocrDone}/${total}`,
        10 + Math.floor((80 * done) / (total + renderTotal)),
        renderTotal
          ? `OCR ${ocrDone} von ${total} Seiten, Seitenbilder ${renderDone} von ${renderTotal}`
          : `OCR ${ocrDone} von ${total} Seiten`,
      );
    };
    report();

    const records: OcrPageRecord[] = [];
    let model: string | null = null;
    let processed = 0;
    let docBytes: number | null = 0;
    const ocrWork = async (): Promise<ChunkReport[]> =>
      runOcrChunks({
        filePath: opts.filePath,
        fileBytes: await fileSize(opts.filePath),
        pageCount: info.page_count,
        first,
        last,
        maxPages: opts.maxPagesPerRequest ?? 50,
        maxBytes: opts.maxRequestBytes ?? 50 * 1024 * 1024,
        retries: opts.chunkRetries ?? 1,
        concurrency: opts.concurrency ?? 4,
        includeImageBase64: includeImages,
        tmpDir,
        ocr: opts.ocr,
        pool,
        signal,
        onAnswer: async (answer, pageNumbers, _span, seq) => {
          records.push(...(await absorbOcrPages(answer.pages, pageNumbers, tmpDir, `c${seq}`)));
          const raw = answer.raw as { model?: unknown; usage_info?: { doc_size_bytes?: unknown } };
          model ??= typeof raw.model === 'string' ? raw.model : answer.model;
          processed += answer.pagesProcessed;
          const size = raw.usage_info?.doc_size_bytes;
          docBytes = typeof size === 'number' && docBytes !== null ? docBytes + size : null;
          ocrDone += pageNumbers.length;
          report();
        },
      });

    const rendered = new Map<number, PdfPageOutput>();
    const renderWork = async (): Promise<void> => {
      if (!renderTotal) return;
      const task: Omit<PdfPagesTask, 'pages'> = {
        filePath: opts.filePath,
        outDir: staged.tempDir,
        text: false,
        main: null,
        preview,
        highRes,
        embeddedImages: false,
        ocrDpi: null,
        vision: null,
      };
      await mapLimited(
        pages,
        pool.threads,
        async (page) => {
          const [out] = await runPdfPages({ ...task, pages: [page] }, signal, pool);
          if (!out || out.error !== null) {
            throw new SecretaryError(
              'CORRUPT_FILE',
              `page ${page} cannot be rendered: ${out?.error ?? 'no output'}`,
              { page },
            );
          }
          rendered.set(page, out);
          renderDone++;
          report();
        },
        signal,
      );
    };

    const [ocr] = await Promise.allSettled([guard(ocrWork), guard(renderWork)]);
    if (failure) throw failure;
    if (ocr.status !== 'fulfilled') throw coerceError(ocr.reason);
    const requests = ocr.value;

    progress('postprocessing', 90, 'Dateien werden geschrieben');
    const final = finalizeOcrPages(records);
    const files = emptyPdfFiles();
    await Promise.all(
      final.textContents.map(async ({ page, content }) => {
        await writeFile(path.join(staged.tempDir, `page_${pad3(page)}.txt`), content, 'utf8');
      }),
    );
    files.page_texts = final.textContents.map(({ page }) => `page_${pad3(page)}.txt`);
    for (const page of pages) {
      const out = rendered.get(page);
      if (out?.preview) files.previews.push(out.preview);
      if (out?.highRes) files.high_res.push(out.highRes);
    }
    const imagesArchive = includeImages && final.images.length > 0 ? MISTRAL_IMAGES_ZIP : null;
    if (imagesArchive) {
      const entries = final.images.map((i) => ({ name: i.name, filePath: i.tmpFile }));
      await writeZip(path.join(staged.tempDir, imagesArchive), entries, signal);
    }
    const usageInfo = { pages_processed: processed, doc_size_bytes: docBytes };
    const raw = { pages: final.rawPages, model, usage_info: usageInfo };
    await writeFile(path.join(staged.tempDir, MISTRAL_RAW_FILE), JSON.stringify(raw), 'utf8');
    await rm(tmpDir, { recursive: true, force: true });
    files.archives = await writeArchives({
      dir: staged.tempDir,
      files,
      previewsZip: false,
      pagesZip: true,
      imagesZip: false,
      stem: 'document',
      signal,
    });
    throwIfAborted(signal);
    await staged.commit();
    progress('postprocessing', 98, 'Fertig');

    return {
      page_count: info.page_count,
      pages_processed: total,
      page_start: first,
      page_end: last,
      text_contents: final.textContents,
      extracted_text: joinPages(final.textContents),
      ocr_text: null,
      files,
      metadata: pdfMetadata(info),
      method: opts.method,
      mistral: {
        model,
        pages_count: final.rawPages.length,
        usage_info: usageInfo,
        requests,
        raw_file: MISTRAL_RAW_FILE,
        images_archive: imagesArchive,
        image_count: final.images.length,
        missing_images: final.missing,
      },
    };
  } catch (err) {
    await staged.discard();
    if (outer.aborted) throw abortError(outer);
    throw err;
  }
};
