/**
 * Page and slide previews of an office document: LibreOffice renders it to PDF, MuPDF (on the
 * CPU pool, the PDF processor's page task) renders each page to `preview_###.jpg`, fit into
 * 512 × 512 px (the original's office thumbnail size), JPEG q80.
 */
import path from 'node:path';
import { SecretaryError } from '../../core/errors.js';
import type { CpuPool } from '../../worker/cpu-pool.js';
import { getCpuPool } from '../../worker/cpu-pool.js';
import { mapLimited } from '../abort.js';
import { runInspectPdf, runPdfPages } from '../pdf/pdf-tasks.js';
import { convertToPdf } from './soffice.js';
import type { SofficeOptions } from './types.js';

export const OFFICE_PREVIEW_SPEC = { maxSide: 512, quality: 80 } as const;

export interface OfficePreviews {
  /** File names written into `outDir`. */
  previews: string[];
  page_count: number;
}

export const renderOfficePreviews = async (opts: {
  filePath: string;
  /** Extension soffice should see (`.docx`, …). */
  extension: string;
  /** Where `document.pdf` and the previews go. */
  outDir: string;
  maxPages: number;
  soffice: SofficeOptions;
  signal?: AbortSignal;
  pool?: CpuPool;
}): Promise<OfficePreviews> => {
  const pool = opts.pool ?? getCpuPool();
  const pdf = path.join(opts.outDir, 'document.pdf');
  await convertToPdf(opts.filePath, pdf, { ...opts.soffice, extension: opts.extension, signal: opts.signal });
  const inspected = await runInspectPdf({ filePath: pdf }, opts.signal, pool);
  if (inspected.status !== 'ok') throw new SecretaryError('CONVERSION_FAILED', `LibreOffice wrote an unreadable PDF: ${inspected.message}`);
  const count = Math.min(inspected.info.page_count, opts.maxPages);
  const pages = Array.from({ length: count }, (_, i) => i + 1);
  const outputs = await mapLimited(
    pages,
    pool.threads,
    async (page) => {
      const [out] = await runPdfPages(
        { filePath: pdf, pages: [page], outDir: opts.outDir, text: false, main: null, preview: OFFICE_PREVIEW_SPEC, highRes: null, embeddedImages: false, ocrDpi: null, vision: null },
        opts.signal,
        pool,
      );
      return out?.preview ?? null;
    },
    opts.signal,
  );
  return { previews: outputs.filter((p): p is string => p !== null), page_count: inspected.info.page_count };
};
