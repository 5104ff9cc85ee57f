/**
 * Image OCR for the `imageocr` job type (reference §3.5): one image in, its text out.
 * Tesseract `deu+eng`, `--psm 3`; `native` and `both` are OCR too (an image has no text layer),
 * `preview` makes a 300 px thumbnail only.
 */
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SecretaryError } from '../../core/errors.js';
import { abortError, throwIfAborted } from '../abort.js';
import { sniffFile } from '../file-type.js';
import type { FileKind } from '../file-type.js';
import { makeThumbnail, readImageInfo, toOcrPgm } from '../image/image-info.js';
import { createStagedDir } from '../work-dir.js';
import { cleanPageText } from '../pdf/text.js';
import { getOcrPool } from './tesseract-pool.js';
import type { TesseractPool } from './tesseract-pool.js';

export const IMAGE_OCR_METHODS = [
  'ocr',
  'native',
  'both',
  'preview',
  'preview_and_native',
  'llm',
  'llm_and_ocr',
] as const;
export type ImageOcrMethod = (typeof IMAGE_OCR_METHODS)[number];

const IMAGE_KINDS: readonly FileKind[] = ['png', 'jpeg', 'gif', 'webp', 'tiff'];

export interface OcrImageOptions {
  filePath: string;
  /** Final output directory (written via a temp sibling, like the PDF processor). */
  workDir: string;
  /** Default: `ocr`. */
  method?: ImageOcrMethod;
  /** Default: 10 MB (`processors.imageocr.max_file_size`). */
  maxFileSize?: number;
  /** Longest side allowed, in pixels. Default: 4096. */
  maxSide?: number;
  /** Name reported as `metadata.file_name`. Default: the file's own name. */
  originalName?: string;
  signal?: AbortSignal;
}

export interface OcrImageResult {
  /** Recognised text; null for `preview`. */
  extracted_text: string | null;
  /** Mean Tesseract word confidence 0..100; null when no OCR ran. */
  confidence: number | null;
  metadata: {
    file_name: string;
    file_size: number;
    /** `"WxH"`. */
    dimensions: string;
    format: string;
    color_mode: string;
    dpi: [number, number] | null;
    extraction_method: ImageOcrMethod;
    /** Relative to `workDir`. */
    preview_paths: string[];
  };
}

export const ocrImage = async (
  opts: OcrImageOptions,
  deps: { ocrPool?: TesseractPool } = {},
): Promise<OcrImageResult> => {
  const { signal } = opts;
  const method = opts.method ?? 'ocr';
  if (!(IMAGE_OCR_METHODS as readonly string[]).includes(method)) {
    throw new SecretaryError('INVALID_PARAMETERS', `unknown extraction method: ${method}`, {
      method,
    });
  }
  if (method === 'llm' || method === 'llm_and_ocr') {
    throw new SecretaryError(
      'LLM_NOT_CONFIGURED',
      `extraction method ${method} needs a vision LLM provider, and none is configured`,
    );
  }
  throwIfAborted(signal);
  const maxFileSize = opts.maxFileSize ?? 10 * 1024 * 1024;
  const maxSide = opts.maxSide ?? 4096;

  let fileSize: number;
  try {
    const st = await stat(opts.filePath);
    if (!st.isFile()) throw new Error('not a file');
    fileSize = st.size;
  } catch {
    throw new SecretaryError('FILE_NOT_FOUND', `file not found: ${path.basename(opts.filePath)}`);
  }
  if (fileSize > maxFileSize) {
    throw new SecretaryError(
      'FILE_TOO_LARGE',
      `the image has ${fileSize} bytes; the limit is ${maxFileSize}`,
      {
        file_size: fileSize,
        max_file_size: maxFileSize,
      },
    );
  }
  const kind = await sniffFile(opts.filePath);
  if (!IMAGE_KINDS.includes(kind)) {
    throw new SecretaryError('UNSUPPORTED_FILE', `not a supported image (the content is ${kind})`, {
      detected: kind,
    });
  }
  const info = await readImageInfo(opts.filePath);
  if (Math.max(info.width, info.height) > maxSide) {
    throw new SecretaryError(
      'IMAGE_TOO_LARGE',
      `the image is ${info.width}x${info.height}; the longest side may be ${maxSide} px`,
      {
        width: info.width,
        height: info.height,
        max_side: maxSide,
      },
    );
  }

  const staged = await createStagedDir(opts.workDir);
  try {
    const previewPaths: string[] = [];
    if (method === 'preview' || method === 'preview_and_native') {
      await writeFile(path.join(staged.tempDir, 'preview.jpg'), await makeThumbnail(opts.filePath));
      previewPaths.push('preview.jpg');
    }
    let text: string | null = null;
    let confidence: number | null = null;
    if (method !== 'preview') {
      const image = await toOcrPgm(opts.filePath);
      throwIfAborted(signal);
      const pool = deps.ocrPool ?? getOcrPool();
      const r = await pool.recognize({
        image,
        psm: 3,
        ...(info.dpi ? { dpi: info.dpi[0] } : {}),
        ...(signal ? { signal } : {}),
      });
      text = cleanPageText(r.text);
      confidence = r.confidence;
    }
    throwIfAborted(signal);
    await staged.commit();
    return {
      extracted_text: text,
      confidence,
      metadata: {
        file_name: opts.originalName ?? path.basename(opts.filePath),
        file_size: fileSize,
        dimensions: `${info.width}x${info.height}`,
        format: info.format,
        color_mode: info.color_mode,
        dpi: info.dpi,
        extraction_method: method,
        preview_paths: previewPaths,
      },
    };
  } catch (err) {
    await staged.discard();
    if (signal?.aborted) throw abortError(signal);
    throw err;
  }
};
