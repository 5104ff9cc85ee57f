export {
  extractPdf,
  PDF_IMAGE_SPECS,
  DEFAULT_MAX_PAGES,
  DEFAULT_MAX_FILE_SIZE,
} from './extract-pdf.js';
export type { PdfProcessorDeps } from './extract-pdf.js';
export { PDF_METHODS, isPdfMethod } from './types.js';
export type {
  ExtractPdfOptions,
  PageVisionProvider,
  PdfFiles,
  PdfMetadata,
  PdfMethod,
  PdfResult,
  ProgressCallback,
} from './types.js';
export { dehyphenate, joinPages } from './text.js';
