/**
 * Opening a PDF for any extraction method: size, magic bytes, MuPDF inspection (on the CPU
 * pool), the page range and the page limit. Shared by `extractPdf` and `mistralOcrPdf`.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SecretaryError } from '../../core/errors.js';
import { throwIfAborted } from '../abort.js';
import { sniffFile } from '../file-type.js';
import type { CpuPool } from '../../worker/cpu-pool.js';
import type { PdfDocumentInfo } from './page-tasks-types.js';
import { runInspectPdf } from './pdf-tasks.js';
import type { PdfMetadata, ProgressCallback } from './types.js';

/** Sizes and qualities of the original (reference §7.7). */
export const PDF_IMAGE_SPECS = {
  main: { maxSide: 1280, quality: 80 },
  preview: { maxSide: 360, quality: 80 },
  highRes: { dpi: 200, quality: 85 },
  vision: { dpi: 300, maxSide: 2048, quality: 85 },
} as const;

export const DEFAULT_MAX_PAGES = 500;
export const DEFAULT_MAX_FILE_SIZE = 150 * 1024 * 1024;

export const safeProgress =
  (cb: ProgressCallback | undefined): ProgressCallback =>
  (step, percent, message) => {
    try {
      cb?.(step, percent, message);
    } catch {
      // a failing progress listener must not fail the extraction
    }
  };

/** Checks the input and reads the document's page count and metadata. */
export const openPdf = async (
  filePath: string,
  pool: CpuPool,
  maxFileSize: number,
  signal?: AbortSignal,
): Promise<PdfDocumentInfo> => {
  let size: number;
  try {
    const st = await stat(filePath);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    throw new SecretaryError('FILE_NOT_FOUND', `file not found: ${path.basename(filePath)}`);
  }
  if (size === 0) throw new SecretaryError('CORRUPT_FILE', 'the file is empty');
  if (size > maxFileSize) {
    throw new SecretaryError(
      'FILE_TOO_LARGE',
      `the PDF has ${size} bytes; the limit is ${maxFileSize}`,
      {
        file_size: size,
        max_file_size: maxFileSize,
      },
    );
  }
  const kind = await sniffFile(filePath);
  if (kind !== 'pdf') {
    throw new SecretaryError('UNSUPPORTED_FILE', `not a PDF (the content is ${kind})`, {
      detected: kind,
    });
  }
  throwIfAborted(signal);
  const inspected = await runInspectPdf({ filePath }, signal, pool);
  if (inspected.status === 'encrypted')
    throw new SecretaryError('ENCRYPTED_FILE', inspected.message);
  if (inspected.status === 'corrupt') {
    throw new SecretaryError('CORRUPT_FILE', `the PDF cannot be read: ${inspected.message}`);
  }
  if (inspected.info.page_count < 1) {
    throw new SecretaryError('CORRUPT_FILE', 'the PDF has no pages', { reason: 'no_pages' });
  }
  return inspected.info;
};

export const clampRange = (
  pageCount: number,
  start: number | null | undefined,
  end: number | null | undefined,
): [number, number] => {
  const clamp = (n: number): number => Math.min(pageCount, Math.max(1, Math.floor(n)));
  const first = clamp(start ?? 1);
  const last = clamp(end ?? pageCount);
  if (first > last) {
    throw new SecretaryError(
      'INVALID_PARAMETERS',
      `page_start ${first} is after page_end ${last}`,
      {
        page_start: start ?? null,
        page_end: end ?? null,
        page_count: pageCount,
      },
    );
  }
  return [first, last];
};

export interface OpenedPdf {
  info: PdfDocumentInfo;
  /** First and last page to process, 1-based, clamped to the document. */
  first: number;
  last: number;
  total: number;
}

/** Opens the PDF and resolves the page range; `TOO_MANY_PAGES` when the range is over `maxPages`. */
export const openPdfRange = async (
  opts: {
    filePath: string;
    pageStart?: number | null;
    pageEnd?: number | null;
    maxPages?: number;
    maxFileSize?: number;
    signal?: AbortSignal;
  },
  pool: CpuPool,
): Promise<OpenedPdf> => {
  const info = await openPdf(
    opts.filePath,
    pool,
    opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
    opts.signal,
  );
  const [first, last] = clampRange(info.page_count, opts.pageStart, opts.pageEnd);
  const total = last - first + 1;
  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  if (total > maxPages) {
    throw new SecretaryError(
      'TOO_MANY_PAGES',
      `the PDF has ${total} pages to process; the limit is ${maxPages}`,
      {
        pages: total,
        page_count: info.page_count,
        max_pages: maxPages,
      },
    );
  }
  return { info, first, last, total };
};

/** The public metadata of an opened PDF. */
export const pdfMetadata = (info: PdfDocumentInfo): PdfMetadata => ({
  title: info.title,
  author: info.author,
  subject: info.subject,
  keywords: info.keywords,
  creator: info.creator,
  producer: info.producer,
  creation_date: info.creation_date,
  mod_date: info.mod_date,
  format: 'pdf',
  pdf_version: info.version,
  encrypted: info.encrypted,
  page_count: info.page_count,
});
