/**
 * Test documents, generated on the fly (never copied from ../shared/fixtures): text PDFs with
 * umlauts, scanned-only PDFs (a page image of rendered text), encrypted, empty, huge, corrupt.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as mupdf from 'mupdf';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';

export const A4: [number, number] = [595.28, 841.89];

/** A PDF with one page per entry; each page's lines are drawn top-down in Helvetica. */
export const textPdf = async (
  pages: readonly string[][],
  opts: { fontSize?: number; title?: string; author?: string } = {},
): Promise<Uint8Array> => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const size = opts.fontSize ?? 12;
  if (opts.title) doc.setTitle(opts.title);
  if (opts.author) doc.setAuthor(opts.author);
  for (const lines of pages) {
    const page = doc.addPage(A4);
    let y = A4[1] - 72;
    for (const line of lines) {
      page.drawText(line, { x: 60, y, size, font });
      y -= size * 1.5;
    }
  }
  return doc.save();
};

/** Renders page 1 of a PDF to PNG with MuPDF. */
export const renderPng = (pdf: Uint8Array, dpi: number): Uint8Array => {
  const doc = mupdf.Document.openDocument(pdf, 'application/pdf');
  const page = doc.loadPage(0);
  const pix = page.toPixmap(
    mupdf.Matrix.scale(dpi / 72, dpi / 72),
    mupdf.ColorSpace.DeviceRGB,
    false,
  );
  const png = pix.asPNG().slice();
  pix.destroy();
  page.destroy();
  doc.destroy();
  return png;
};

/** A "scan": each page is only a PNG image of rendered text (no text layer). */
export const scannedPdf = async (
  pages: readonly string[][],
  fontSize = 15,
  dpi = 300,
): Promise<Uint8Array> => {
  const out = await PDFDocument.create();
  for (const lines of pages) {
    const png = renderPng(await textPdf([lines], { fontSize }), dpi);
    const image = await out.embedPng(png);
    const page = out.addPage(A4);
    page.drawImage(image, { x: 0, y: 0, width: A4[0], height: A4[1] });
  }
  return out.save();
};

/** A text PDF with an embedded PNG image on page 1. */
export const pdfWithImage = async (): Promise<Uint8Array> => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const png = await sharp({
    create: { width: 200, height: 120, channels: 3, background: '#3366cc' },
  })
    .png()
    .toBuffer();
  const jpg = await sharp({
    create: { width: 160, height: 90, channels: 3, background: '#cc6633' },
  })
    .jpeg()
    .toBuffer();
  const page = doc.addPage(A4);
  page.drawText('Bild mit Beschriftung', { x: 60, y: 760, size: 14, font });
  page.drawImage(await doc.embedPng(png), { x: 60, y: 500, width: 200, height: 120 });
  page.drawImage(await doc.embedJpg(jpg), { x: 300, y: 500, width: 160, height: 90 });
  return doc.save();
};

/** Encrypts a PDF with MuPDF (pdf-lib cannot): AES-256 with a user password. */
export const encryptPdf = (pdf: Uint8Array, userPassword: string | null): Uint8Array => {
  const doc = new mupdf.PDFDocument(pdf);
  const opts = ['encrypt=aes-256', 'owner-password=owner-secret'];
  if (userPassword !== null) opts.push(`user-password=${userPassword}`);
  const buf = doc.saveToBuffer(opts.join(','));
  const bytes = buf.asUint8Array().slice();
  buf.destroy();
  doc.destroy();
  return bytes;
};

/** A valid PDF with zero pages. */
export const emptyPdf = async (): Promise<Uint8Array> =>
  (await PDFDocument.create()).save({ addDefaultPage: false });

/** Many tiny pages (fast to build). */
export const manyPagesPdf = async (count: number): Promise<Uint8Array> => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= count; i++) {
    const page = doc.addPage([300, 400]);
    page.drawText(`Seite ${i} von ${count}`, { x: 20, y: 350, size: 12, font });
  }
  return doc.save({ useObjectStreams: false });
};

/** A temp directory that the test removes in `afterAll`. */
export const makeTempDir = async (
  prefix = 'secretary-test-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> => {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
};

export const writeTemp = async (dir: string, name: string, data: Uint8Array): Promise<string> => {
  const p = path.join(dir, name);
  await writeFile(p, data);
  return p;
};

/** Character error rate: Levenshtein distance / reference length, after whitespace normalisation. */
export const cer = (reference: string, hypothesis: string): number => {
  const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();
  const a = norm(reference);
  const b = norm(hypothesis);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
    }
    prev = cur;
  }
  return (prev[b.length] as number) / Math.max(1, a.length);
};
