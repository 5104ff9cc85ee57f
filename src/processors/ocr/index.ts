export { ocrImage, IMAGE_OCR_METHODS } from './ocr-image.js';
export type { ImageOcrMethod, OcrImageOptions, OcrImageResult } from './ocr-image.js';
export { TesseractPool, getOcrPool, configureOcrPool, closeOcrPool } from './tesseract-pool.js';
export type { OcrPoolOptions, OcrRequest, OcrResult } from './tesseract-pool.js';
