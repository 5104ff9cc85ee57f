/**
 * Messages between the PDF orchestrator (main thread) and the page tasks running on the CPU
 * pool (`src/worker/cpu-tasks.ts`). Plain data only: they cross a thread boundary.
 */
import type { PdfMetadata } from './types.js';

/** Render a page to fit a `maxSide` × `maxSide` box and encode it as JPEG. */
export interface FitJpegSpec {
  maxSide: number;
  quality: number;
}

/** Render a page at `dpi` and encode it as JPEG. */
export interface DpiJpegSpec {
  dpi: number;
  quality: number;
}

export interface PdfInspectTask {
  filePath: string;
}

/** What the inspect task reads: the public metadata, with the raw version string. */
export type PdfDocumentInfo = Omit<PdfMetadata, 'format' | 'pdf_version'> & {
  /** e.g. `PDF 1.7`. */
  version: string | null;
};

export type PdfInspectResult =
  | { status: 'ok'; info: PdfDocumentInfo }
  | { status: 'encrypted'; message: string }
  | { status: 'corrupt'; message: string };

export interface PdfPagesTask {
  filePath: string;
  /** 1-based page numbers. */
  pages: number[];
  /** Directory the task writes its image files into. */
  outDir: string;
  /** Extract the native text layer. */
  text: boolean;
  /** `image_###.jpg`. */
  main: FitJpegSpec | null;
  /** `preview_###.jpg`. */
  preview: FitJpegSpec | null;
  /** `page_###.jpeg`. */
  highRes: DpiJpegSpec | null;
  /** Write embedded images as `embedded_###_##.<ext>`. */
  embeddedImages: boolean;
  /** Return a grayscale PGM of the page at this DPI, for OCR. */
  ocrDpi: number | null;
  /** Return a JPEG for a vision model: rendered at `dpi`, then fit into `maxSide`. */
  vision: { dpi: number; maxSide: number; quality: number } | null;
}

export interface PdfPageOutput {
  page: number;
  /** Raw native text (not yet dehyphenated); null when not asked. */
  text: string | null;
  /** File names (no directory) written into `outDir`. */
  main: string | null;
  preview: string | null;
  highRes: string | null;
  embedded: string[];
  ocrImage: Uint8Array | null;
  visionImage: Uint8Array | null;
  /** Set when the page could not be loaded or rendered. */
  error: string | null;
}
