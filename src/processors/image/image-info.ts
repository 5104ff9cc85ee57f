import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { SecretaryError } from '../../core/errors.js';

export interface ImageInfo {
  width: number;
  height: number;
  /** PIL-style format name, as the original reported it: `PNG`, `JPEG`, `GIF`, `WEBP`, `TIFF`. */
  format: string;
  /** PIL-style mode: `RGB`, `RGBA`, `L`, `LA`, `P`, `CMYK`, `1`. */
  color_mode: string;
  /** `[x, y]` pixels per inch when the file says so. */
  dpi: [number, number] | null;
}

const colorMode = (m: Metadata): string => {
  if (m.isPalette) return 'P';
  if (m.space === 'cmyk') return 'CMYK';
  const ch = m.channels ?? 3;
  if (m.space === 'b-w' || ch <= 2) {
    if (ch === 1 && m.bitsPerSample === 1) return '1';
    return ch === 2 ? 'LA' : 'L';
  }
  return ch === 4 ? 'RGBA' : 'RGB';
};

/** Reads size, format, colour mode and DPI of an image (header only, no full decode). */
export const readImageInfo = async (input: string | Buffer): Promise<ImageInfo> => {
  let m: Metadata;
  try {
    m = await sharp(input).metadata();
  } catch (err) {
    throw new SecretaryError('CORRUPT_FILE', `the image cannot be read: ${(err as Error).message}`);
  }
  if (!m.width || !m.height) throw new SecretaryError('CORRUPT_FILE', 'the image has no size');
  const rotated = (m.orientation ?? 1) >= 5;
  return {
    width: rotated ? m.height : m.width,
    height: rotated ? m.width : m.height,
    format: (m.format ?? 'unknown').toUpperCase(),
    color_mode: colorMode(m),
    dpi: m.density ? [m.density, m.density] : null,
  };
};

/**
 * Decodes an image into an 8-bit grayscale PGM for Tesseract: EXIF rotation applied,
 * transparency flattened onto white. Runs on libuv's thread pool (sharp), not the event loop.
 */
export const toOcrPgm = async (input: string | Buffer): Promise<Uint8Array> => {
  const { data, info } = await sharp(input)
    .rotate()
    .flatten({ background: '#ffffff' })
    .grayscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const header = Buffer.from(`P5\n${info.width} ${info.height}\n255\n`, 'latin1');
  return Buffer.concat([header, data.subarray(0, info.width * info.height)]);
};

/** A JPEG thumbnail fitting `size` × `size` (the original's 300 × 300 preview). */
export const makeThumbnail = (input: string | Buffer, size = 300, quality = 80): Promise<Buffer> =>
  sharp(input)
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality })
    .toBuffer();
