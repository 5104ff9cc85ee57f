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
export {
  mistralOcrPdf,
  MISTRAL_IMAGES_ZIP,
  MISTRAL_RAW_FILE,
  type MistralOcrInfo,
  type MistralOcrPdfOptions,
  type MistralOcrPdfResult,
  type OcrCaller,
} from './mistral-ocr.js';
export { MISTRAL_METHODS, isMistralMethod, type MistralMethod } from './types.js';
export {
  createVisionPageProvider,
  visionPagePrompt,
  type VisionPageOptions,
  type VisionPromptContext,
} from './vision-page.js';
