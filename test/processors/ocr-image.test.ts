import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import { closeOcrPool, ocrImage } from '../../src/processors/ocr/index.js';
import { cer, makeTempDir, renderPng, textPdf, writeTemp } from './helpers/make-docs.js';

const LINES = [
  'Rechnung Nummer 2024-117',
  'Betrag: 349,50 Euro zahlbar bis Freitag.',
  'Vielen Dank für Ihren Einkauf bei Müller & Söhne.',
];

let tmp: { dir: string; cleanup: () => Promise<void> };
let png: string;

beforeAll(async () => {
  tmp = await makeTempDir();
  // A page rendered at 150 DPI, cropped to the text: about 1240 px wide.
  const full = renderPng(await textPdf([LINES], { fontSize: 14 }), 150);
  png = await writeTemp(
    tmp.dir,
    'scan.png',
    await sharp(full).extract({ left: 0, top: 0, width: 1240, height: 400 }).png().toBuffer(),
  );
});

afterAll(async () => {
  await closeOcrPool();
  await tmp.cleanup();
});

const expectCode = async (p: Promise<unknown>, code: string): Promise<void> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretaryError);
  expect((err as SecretaryError).code).toBe(code);
};

describe('ocrImage', () => {
  it('recognises the text of an image and reports its metadata', async () => {
    const r = await ocrImage({
      filePath: png,
      workDir: path.join(tmp.dir, 'a'),
      originalName: 'rechnung.png',
    });
    expect(
      cer(LINES.join('\n'), r.extracted_text ?? ''),
      r.extracted_text ?? '',
    ).toBeLessThanOrEqual(0.05);
    expect(r.metadata).toMatchObject({
      file_name: 'rechnung.png',
      dimensions: '1240x400',
      format: 'PNG',
      color_mode: 'RGB',
      extraction_method: 'ocr',
      preview_paths: [],
    });
    expect(r.metadata.file_size).toBeGreaterThan(1000);
  });

  it('preview makes a 300 px thumbnail and no text', async () => {
    const dir = path.join(tmp.dir, 'b');
    const r = await ocrImage({ filePath: png, workDir: dir, method: 'preview' });
    expect(r.extracted_text).toBeNull();
    expect(r.metadata.preview_paths).toEqual(['preview.jpg']);
    const meta = await sharp(path.join(dir, 'preview.jpg')).metadata();
    expect(Math.max(meta.width, meta.height)).toBe(300);
  });

  it('rejects files that are too large, too wide or not images', async () => {
    await expectCode(
      ocrImage({ filePath: png, workDir: path.join(tmp.dir, 'c'), maxFileSize: 100 }),
      'FILE_TOO_LARGE',
    );
    const wide = await writeTemp(
      tmp.dir,
      'wide.png',
      await sharp({ create: { width: 5000, height: 20, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    );
    await expectCode(
      ocrImage({ filePath: wide, workDir: path.join(tmp.dir, 'd') }),
      'IMAGE_TOO_LARGE',
    );
    const pdf = await writeTemp(tmp.dir, 'doc.png', await textPdf([['x']]));
    await expectCode(
      ocrImage({ filePath: pdf, workDir: path.join(tmp.dir, 'e') }),
      'UNSUPPORTED_FILE',
    );
    await expectCode(
      ocrImage({ filePath: png, workDir: path.join(tmp.dir, 'f'), method: 'llm' }),
      'LLM_NOT_CONFIGURED',
    );
  });
});
