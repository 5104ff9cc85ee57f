/**
 * Generated PDFs for the Mistral OCR and vision tests: pages with text (and fake directives
 * such as `[[fake:ocr_status=500]]`) and embedded images (solid PNG/JPEG, or incompressible
 * noise to make pages heavy).
 */
import { randomBytes } from 'node:crypto';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { A4 } from './make-docs.js';

export interface PageSpec {
  lines: string[];
  /** Solid-colour images on the page: `png` or `jpeg`. */
  images?: Array<'png' | 'jpeg'>;
  /** An incompressible image of about this many KiB (JPEG of noise). */
  noiseKiB?: number;
}

const solid = (kind: 'png' | 'jpeg', i: number): Promise<Buffer> => {
  const img = sharp({
    create: {
      width: 120 + i * 10,
      height: 80,
      channels: 3,
      background: { r: 40 * i, g: 120, b: 200 },
    },
  });
  return kind === 'png' ? img.png().toBuffer() : img.jpeg().toBuffer();
};

const noise = async (kib: number): Promise<Buffer> => {
  const side = Math.ceil(Math.sqrt((kib * 1024) / 3) * 1.7);
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
};

/** A PDF built from page specs; text in Helvetica, images below the text. */
export const specPdf = async (pages: readonly PageSpec[]): Promise<Uint8Array> => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  let n = 0;
  for (const spec of pages) {
    const page = doc.addPage(A4);
    let y = A4[1] - 72;
    for (const line of spec.lines) {
      page.drawText(line, { x: 60, y, size: 12, font });
      y -= 18;
    }
    let x = 60;
    for (const kind of spec.images ?? []) {
      const bytes = await solid(kind, n++);
      const img = kind === 'png' ? await doc.embedPng(bytes) : await doc.embedJpg(bytes);
      page.drawImage(img, { x, y: 400, width: 120, height: 80 });
      x += 150;
    }
    if (spec.noiseKiB) {
      const img = await doc.embedJpg(await noise(spec.noiseKiB));
      page.drawImage(img, { x: 60, y: 100, width: 200, height: 200 });
    }
  }
  return doc.save();
};

/** `count` pages, page i saying `Seite i` (plus optional extra lines and images per page). */
export const numberedPdf = (
  count: number,
  extra: (page: number) => Partial<PageSpec> = () => ({}),
): Promise<Uint8Array> =>
  specPdf(
    Array.from({ length: count }, (_, i) => {
      const e = extra(i + 1);
      return { ...e, lines: [`Seite ${i + 1} des Dokuments über Bergwiesen.`, ...(e.lines ?? [])] };
    }),
  );
