/**
 * Public types of the PDF processor. Plain data in, plain data out: the processor knows
 * nothing about jobs, stores or HTTP.
 */

export const PDF_METHODS = [
  'native',
  'ocr',
  'tesseract_ocr',
  'both',
  'preview',
  'preview_and_native',
  'llm',
  'llm_and_native',
  'llm_and_ocr',
  'mistral_ocr',
  'mistral_ocr_with_pages',
  'preview_and_mistral_ocr',
] as const;
export type PdfMethod = (typeof PDF_METHODS)[number];

export const isPdfMethod = (m: string): m is PdfMethod =>
  (PDF_METHODS as readonly string[]).includes(m);

/** Progress of one run: `step` like `processing_pages:3/12`, percent 10..98. */
export type ProgressCallback = (step: string, percent: number, message: string | null) => void;

/** The methods answered by Mistral OCR (`mistralOcrPdf`), not by `extractPdf`. */
export const MISTRAL_METHODS = [
  'mistral_ocr',
  'mistral_ocr_with_pages',
  'preview_and_mistral_ocr',
] as const satisfies readonly PdfMethod[];
export type MistralMethod = (typeof MISTRAL_METHODS)[number];

export const isMistralMethod = (m: string): m is MistralMethod =>
  (MISTRAL_METHODS as readonly string[]).includes(m);

/**
 * Turns one page image into Markdown with a vision model (for the `llm*` methods). Without
 * one those methods fail with `LLM_NOT_CONFIGURED`.
 */
export interface PageVisionProvider {
  /** Page requests this job may have in flight at once (the provider's limit). Default 1. */
  concurrency?: number;
  pageToMarkdown(input: {
    /** JPEG, rendered at `visionDpi` (300) and fit into 2048 px. */
    image: Uint8Array;
    mimeType: 'image/jpeg';
    page: number;
    signal: AbortSignal;
  }): Promise<{ markdown: string }>;
}

export interface ExtractPdfOptions {
  /** The PDF to read (checked by its magic bytes, whatever its name). */
  filePath: string;
  /** Final output directory. Files are written into a temp sibling and renamed onto it at the
   *  end, replacing an existing directory; nothing is left behind on failure. */
  workDir: string;
  method: PdfMethod;
  /** First page, 1-based, inclusive; clamped to the document. Default: 1. */
  pageStart?: number | null;
  /** Last page, 1-based, inclusive; clamped to the document. Default: last page. */
  pageEnd?: number | null;
  /** Most pages one run may process (the selected range counts). Default: 500. */
  maxPages?: number;
  /** Largest PDF accepted, in bytes (`FILE_TOO_LARGE` above). Default: 150 MB. */
  maxFileSize?: number;
  /** Main page images `image_###.jpg`, embedded images and the images archive. Default: false. */
  includeImages?: boolean;
  /** Preview images `preview_###.jpg` (+ `previews.zip`) for any method. Default: false. */
  includePreviews?: boolean;
  /** High-resolution page images `page_###.jpeg` (200 DPI) + `pages.zip`. Default: false. */
  includeHighRes?: boolean;
  /** Name used for the images archive `<stem>_images.zip`. Default: the file's own name. */
  originalName?: string;
  /** DPI of the page render handed to Tesseract. Default: 300. */
  ocrDpi?: number;
  /** Vision model for the `llm*` methods; absent = `LLM_NOT_CONFIGURED`. */
  llm?: PageVisionProvider;
  /** DPI of the page render sent to the vision model (then fit into 2048 px). Default: 300. */
  visionDpi?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface PdfMetadata {
  title: string | null;
  author: string | null;
  subject: string | null;
  keywords: string | null;
  creator: string | null;
  producer: string | null;
  /** ISO 8601 when the PDF date parses, else the raw string. */
  creation_date: string | null;
  mod_date: string | null;
  format: 'pdf';
  /** e.g. `PDF 1.7`. */
  pdf_version: string | null;
  encrypted: boolean;
  page_count: number;
}

export interface PdfFiles {
  /** `page_###.txt` (the page text of the method; native text for `both`). */
  page_texts: string[];
  /** `ocr_page_###.txt` (Tesseract text, `ocr`/`both`/`llm_and_ocr`). */
  ocr_texts: string[];
  /** `image_###.jpg`, fit 1280 px, JPEG q80. */
  images: string[];
  /** `preview_###.jpg`, fit 360 px, JPEG q80. */
  previews: string[];
  /** `page_###.jpeg`, 200 DPI, JPEG q85. */
  high_res: string[];
  /** `embedded_###_##.jpg|png`. */
  embedded_images: string[];
  archives: { previews?: string; pages?: string; images?: string };
}

/** A run's file lists before anything is written. */
export const emptyPdfFiles = (): PdfFiles => ({
  page_texts: [],
  ocr_texts: [],
  images: [],
  previews: [],
  high_res: [],
  embedded_images: [],
  archives: {},
});

export interface PdfResult {
  /** Pages of the document. */
  page_count: number;
  /** Pages this run processed (the clamped range). */
  pages_processed: number;
  page_start: number;
  page_end: number;
  text_contents: Array<{ page: number; content: string }>;
  /** Pages joined as `"\n--- Seite N ---\n" + text`; null for methods without text (`preview`). */
  extracted_text: string | null;
  /** Tesseract text with the same markers (`ocr`, `both`, `llm_and_ocr`); else null. */
  ocr_text: string | null;
  /** Paths relative to `workDir`. */
  files: PdfFiles;
  metadata: PdfMetadata;
  method: PdfMethod;
}
