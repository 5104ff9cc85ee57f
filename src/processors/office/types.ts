/**
 * Public types of the office processor (DOCX, XLSX, PPTX → Markdown; office → PDF). Plain
 * data in, plain data out: the processor knows nothing about jobs, stores or HTTP.
 */

export const OFFICE_KINDS = ['docx', 'xlsx', 'pptx'] as const;
export type OfficeKind = (typeof OFFICE_KINDS)[number];

/** One unit of the document's text: a slide, a sheet, or the whole DOCX. */
export interface OfficeTextContent {
  /** 1-based: slide number (PPTX), sheet number (XLSX), 1 (DOCX). */
  page: number;
  content: string;
  /** Sheet name (XLSX) or slide title (PPTX), when there is one. */
  title?: string | null;
}

/** What the Markdown conversion returns (runs on a worker thread; plain data). */
export interface OfficeMarkdown {
  kind: OfficeKind;
  markdown: string;
  text_contents: OfficeTextContent[];
  /** Image files written, relative to the output dir (`images/…`). */
  images: string[];
  /** Warnings of the converter (unsupported elements, truncated sheets). */
  warnings: string[];
  /** Slides (PPTX), sheets (XLSX); null for DOCX. */
  unit_count: number | null;
  title: string | null;
  /** XLSX: rows left out of sheets longer than `maxSheetRows`. */
  truncated_rows: number;
}

export interface OfficeMarkdownTask {
  filePath: string;
  /** Output dir; images go to `<outDir>/images/`. */
  outDir: string;
  includeImages: boolean;
  /** Rows rendered per sheet (XLSX); the rest is counted in `truncated_rows`. */
  maxSheetRows: number;
  /** Cap on what the package may unpack to. */
  maxUnpackedBytes: number;
}

/** How to run LibreOffice (`soffice`). */
export interface SofficeOptions {
  /** Binary name (looked up on PATH) or path. Default `soffice`. */
  path: string;
  /** One conversion's time limit; `PROCESSING_TIMEOUT` after it. Default 180 s. */
  timeoutMs: number;
  /** Conversions at once in this process (soffice is heavy). Default 2. */
  maxConcurrent: number;
}

export type OfficeProgress = (step: string, percent: number, message: string | null) => void;

export interface ExtractOfficeOptions {
  filePath: string;
  /** Final output dir; written into a temp sibling and renamed at the end. */
  workDir: string;
  /** Name the client knows the document by (archive entry and metadata). */
  originalName: string;
  includeImages: boolean;
  /** Page/slide previews (needs LibreOffice; skipped with a warning without it). */
  includePreviews: boolean;
  maxSheetRows?: number;
  maxPreviewPages?: number;
  maxUnpackedBytes?: number;
  soffice: SofficeOptions;
  signal?: AbortSignal;
  onProgress?: OfficeProgress;
}

export interface OfficeResult extends OfficeMarkdown {
  /** `preview_###.jpg` under `previews/`, relative to the work dir. */
  previews: string[];
  /** Pages of the LibreOffice rendering (previews); null when not rendered. */
  page_count: number | null;
  /** `output.md`, relative to the work dir. */
  markdown_file: string;
  /** `archive.zip` (output.md, images/, previews/), relative to the work dir. */
  archive: string;
  /** Why previews are missing although asked for (e.g. LibreOffice not installed). */
  previews_skipped: string | null;
}
