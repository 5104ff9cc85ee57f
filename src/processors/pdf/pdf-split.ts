/**
 * CPU-pool task: copies some pages of a PDF into a new PDF (MuPDF graft: shared fonts and
 * images are copied once per output). Used to cut a long document into chunks an OCR API
 * accepts. Exposed to the pool through `src/worker/cpu-tasks.ts`.
 */
import { writeFile } from 'node:fs/promises';
import * as mupdf from 'mupdf';
import { openCached } from './page-tasks.js';

export interface PdfSplitTask {
  filePath: string;
  /** 1-based page numbers of the source, in the order they go into the output. */
  pages: number[];
  outPath: string;
}

export type PdfSplitResult =
  | { status: 'ok'; outPath: string; bytes: number; pages: number }
  | { status: 'error'; message: string };

export const splitPdf = async (task: PdfSplitTask): Promise<PdfSplitResult> => {
  let out: mupdf.PDFDocument | null = null;
  try {
    const src = openCached(task.filePath).asPDF();
    if (!src) return { status: 'error', message: 'the document is not a PDF' };
    out = new mupdf.PDFDocument();
    const map = out.newGraftMap();
    for (const page of task.pages) map.graftPage(-1, src, page - 1);
    const buf = out.saveToBuffer('garbage,compress');
    try {
      const bytes = buf.asUint8Array();
      // copy out of WASM memory before the buffer dies
      await writeFile(task.outPath, Buffer.from(bytes));
      return { status: 'ok', outPath: task.outPath, bytes: bytes.length, pages: task.pages.length };
    } finally {
      buf.destroy();
    }
  } catch (err) {
    return { status: 'error', message: (err as Error).message || String(err) };
  } finally {
    out?.destroy();
  }
};
