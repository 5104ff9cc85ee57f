/**
 * The fake's Mistral `/ocr`: an answer in Mistral's shape derived from the uploaded PDF itself —
 * each page's real text (MuPDF) as Markdown paragraphs, its embedded images as `img-<k>.jpeg`
 * (numbered across the answer, referenced as `![img-k.jpeg](img-k.jpeg)` where they sit), image
 * boxes in the page's 200-DPI pixel space, and `usage_info`.
 *
 * Like the API, it refuses a document of more than `maxPages` pages (whatever `pages` asks for)
 * and a request for more than `maxPages` pages. Page-specific faults are written into the test
 * PDF's text, so they follow the page into whatever chunk carries it:
 * - `[[fake:ocr_status=500]]`: any request that includes this page answers that HTTP status;
 * - `[[fake:ocr_drop_page]]`: the answer leaves this page out (a short answer);
 * - `[[fake:ocr_drop_page_once]]`: the same, only the first time this document and page list
 *   is asked for (state kept per process);
 * - `[[fake:ocr_no_image_data]]`: the page's images come without `image_base64`.
 */
import { createHash } from 'node:crypto';
import * as mupdf from 'mupdf';

mupdf.setLog({ warning: () => undefined, error: () => undefined });

export interface OcrImage {
  id: string;
  top_left_x: number;
  top_left_y: number;
  bottom_right_x: number;
  bottom_right_y: number;
  image_base64: string | null;
}

export interface OcrPageAnswer {
  index: number;
  markdown: string;
  images: OcrImage[];
  dimensions: { dpi: number; height: number; width: number };
}

export interface OcrAnswer {
  pages: OcrPageAnswer[];
  model: string;
  usage_info: { pages_processed: number; doc_size_bytes: number };
  document_annotation: null;
}

/** An error the fake answers with Mistral's 4xx shape. */
export class OcrInputError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Requests seen by `ocr_drop_page_once` (per process). */
const seenOnce = new Set<string>();

const pageDirectives = (markdown: string) => ({
  status: Number(/\[\[fake:ocr_status=(\d{3})\]\]/.exec(markdown)?.[1] ?? 0),
  drop: markdown.includes('[[fake:ocr_drop_page]]'),
  dropOnce: markdown.includes('[[fake:ocr_drop_page_once]]'),
  noImageData: markdown.includes('[[fake:ocr_no_image_data]]'),
});

const DPI = 200;
const px = (pt: number): number => Math.round((pt * DPI) / 72);

export const pdfPageCount = (bytes: Uint8Array): number => {
  const doc = mupdf.Document.openDocument(bytes, 'application/pdf');
  try {
    return doc.countPages();
  } finally {
    doc.destroy();
  }
};

/**
 * The image as JPEG: drawn onto an opaque white RGB canvas of its own size, which flattens
 * transparency (soft masks) and converts any colour space (gray, CMYK, indexed) as JPEG needs;
 * stencil masks are painted black.
 */
const imageJpeg = (image: mupdf.Image): Uint8Array => {
  const w = Math.max(1, image.getWidth());
  const h = Math.max(1, image.getHeight());
  const canvas = new mupdf.Pixmap(mupdf.ColorSpace.DeviceRGB, [0, 0, w, h], false);
  canvas.clear(255);
  const device = new mupdf.DrawDevice(mupdf.Matrix.identity, canvas);
  try {
    const ctm: mupdf.Matrix = [w, 0, 0, h, 0, 0];
    // a stencil mask (1-bit, no colour of its own) is painted in black
    if (image.getImageMask())
      device.fillImageMask(image, ctm, mupdf.ColorSpace.DeviceRGB, [0, 0, 0], 1);
    else device.fillImage(image, ctm, 1);
    device.close();
    return canvas.asJPEG(85);
  } finally {
    device.destroy();
    canvas.destroy();
  }
};

const pageMarkdown = (
  page: mupdf.Page,
  includeBase64: boolean,
  nextImage: () => number,
): { markdown: string; images: OcrImage[] } => {
  const blocks: string[] = [];
  const images: OcrImage[] = [];
  let lines: string[] = [];
  let line = '';
  let maxSize = 0;
  const stext = page.toStructuredText('preserve-images');
  stext.walk({
    onImageBlock(bbox, _transform, image) {
      const id = `img-${nextImage()}.jpeg`;
      let b64: string | null = null;
      if (includeBase64) {
        b64 = `data:image/jpeg;base64,${Buffer.from(imageJpeg(image)).toString('base64')}`;
      }
      images.push({
        id,
        top_left_x: px(bbox[0]),
        top_left_y: px(bbox[1]),
        bottom_right_x: px(bbox[2]),
        bottom_right_y: px(bbox[3]),
        image_base64: b64,
      });
      blocks.push(`![${id}](${id})`);
    },
    beginTextBlock() {
      lines = [];
      maxSize = 0;
    },
    beginLine() {
      line = '';
    },
    onChar(c, _origin, _font, size) {
      line += c;
      if (size > maxSize) maxSize = size;
    },
    endLine() {
      if (line.trim()) lines.push(line.trim());
    },
    endTextBlock() {
      if (!lines.length) return;
      const text = lines
        .join('\n')
        .replace(/-\n(?=\p{Ll})/gu, '')
        .replace(/\n/g, ' ');
      blocks.push(maxSize >= 16 && text.length < 120 ? `# ${text}` : text);
    },
  });
  return { markdown: blocks.join('\n\n'), images };
};

/** OCR of `bytes` (a PDF) for the 0-based `pages` (all when null). */
export const ocrPdf = (
  bytes: Uint8Array,
  opts: { model: string; pages: number[] | null; includeImageBase64: boolean; maxPages: number },
): OcrAnswer => {
  if (Buffer.from(bytes.subarray(0, 5)).toString('latin1') !== '%PDF-') {
    throw new OcrInputError(400, 'Invalid document: the file is not a PDF');
  }
  let doc: mupdf.Document;
  try {
    doc = mupdf.Document.openDocument(bytes, 'application/pdf');
  } catch (err) {
    throw new OcrInputError(400, `Invalid document: ${(err as Error).message}`);
  }
  try {
    const count = doc.countPages();
    if (count > opts.maxPages) {
      throw new OcrInputError(
        400,
        `Document has ${count} pages; the maximum is ${opts.maxPages} pages per document`,
      );
    }
    const wanted = opts.pages ?? Array.from({ length: count }, (_, i) => i);
    if (wanted.length > opts.maxPages) {
      throw new OcrInputError(
        400,
        `Document has ${wanted.length} pages to process; the maximum is ${opts.maxPages}`,
      );
    }
    const bad = wanted.find((p) => !Number.isInteger(p) || p < 0 || p >= count);
    if (bad !== undefined) {
      throw new OcrInputError(400, `Page index ${bad} out of range (document has ${count} pages)`);
    }
    let k = 0;
    const onceKey = `${createHash('sha256').update(bytes).digest('hex')}:${wanted.join(',')}`;
    const all = wanted.map((index) => {
      const page = doc.loadPage(index);
      try {
        const [x0, y0, x1, y1] = page.getBounds();
        const { markdown, images } = pageMarkdown(page, opts.includeImageBase64, () => k++);
        const d = pageDirectives(markdown);
        if (d.status) {
          throw new OcrInputError(
            d.status,
            `scripted failure of page index ${index} [[fake:ocr_status=${d.status}]]`,
          );
        }
        if (d.noImageData) for (const img of images) img.image_base64 = null;
        let drop = d.drop;
        if (d.dropOnce && !seenOnce.has(`${onceKey}:${index}`)) {
          seenOnce.add(`${onceKey}:${index}`);
          drop = true;
        }
        const answer: OcrPageAnswer = {
          index,
          markdown,
          images,
          dimensions: { dpi: DPI, height: px(y1 - y0), width: px(x1 - x0) },
        };
        return drop ? null : answer;
      } finally {
        page.destroy();
      }
    });
    const pages = all.filter((p): p is OcrPageAnswer => p !== null);
    return {
      pages,
      model: opts.model,
      usage_info: { pages_processed: pages.length, doc_size_bytes: bytes.length },
      document_annotation: null,
    };
  } finally {
    doc.destroy();
  }
};
