/**
 * PDF work that runs on a CPU-pool thread (never on the main thread): open a document with
 * MuPDF (WASM), extract text, render pages and encode them with sharp, pull out embedded
 * images. Exposed to the pool through `src/worker/cpu-tasks.ts`.
 */
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as mupdf from 'mupdf';
import sharp from 'sharp';
import { pad3 } from '../work-dir.js';
import type {
  FitJpegSpec,
  PdfDocumentInfo,
  PdfInspectResult,
  PdfInspectTask,
  PdfPageOutput,
  PdfPagesTask,
} from './page-tasks-types.js';

mupdf.setLog({ warning: () => undefined, error: () => undefined });
// Every sharp input here is a fresh raw raster, so libvips' operation cache never hits; it only
// holds memory (measured: RSS after ten 200-DPI pages 329 MB with it, 256 MB without).
sharp.cache(false);

interface CachedDoc {
  doc: mupdf.Document;
  size: number;
  mtimeMs: number;
}

/** Open documents of this thread, most recently used last (a job sends many tasks per file; the split task shares them). */
const cache = new Map<string, CachedDoc>();
const CACHE_SIZE = 2;

export const openCached = (filePath: string): mupdf.Document => {
  const st = statSync(filePath);
  const hit = cache.get(filePath);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) {
    cache.delete(filePath);
    cache.set(filePath, hit);
    return hit.doc;
  }
  if (hit) {
    cache.delete(filePath);
    hit.doc.destroy();
  }
  const doc = mupdf.Document.openDocument(readFileSync(filePath), 'application/pdf');
  cache.set(filePath, { doc, size: st.size, mtimeMs: st.mtimeMs });
  while (cache.size > CACHE_SIZE) {
    const [oldest, entry] = cache.entries().next().value as [string, CachedDoc];
    cache.delete(oldest);
    entry.doc.destroy();
  }
  return doc;
};

const meta = (doc: mupdf.Document, key: string): string | null => {
  const v = doc.getMetaData(key);
  return v === undefined || v === '' ? null : v;
};

/** `D:20020725115106+02'00'` → ISO 8601; other strings are returned unchanged. */
export const pdfDateToIso = (raw: string | null): string | null => {
  if (!raw) return null;
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?/.exec(
    raw,
  );
  if (!m) return raw;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', tz] = m;
  let zone = 'Z';
  if (tz && tz !== 'Z') zone = `${tz.slice(0, 3)}:${tz.slice(3).replace(/'/g, '').padEnd(2, '0')}`;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? raw : date.toISOString();
};

export const inspectPdf = (task: PdfInspectTask): PdfInspectResult => {
  let doc: mupdf.Document;
  try {
    doc = openCached(task.filePath);
  } catch (err) {
    return { status: 'corrupt', message: (err as Error).message || 'cannot open PDF' };
  }
  if (doc.needsPassword()) {
    return { status: 'encrypted', message: 'the PDF is protected by a password' };
  }
  try {
    const encryption = meta(doc, 'encryption');
    const info: PdfDocumentInfo = {
      page_count: doc.countPages(),
      title: meta(doc, 'info:Title'),
      author: meta(doc, 'info:Author'),
      subject: meta(doc, 'info:Subject'),
      keywords: meta(doc, 'info:Keywords'),
      creator: meta(doc, 'info:Creator'),
      producer: meta(doc, 'info:Producer'),
      creation_date: pdfDateToIso(meta(doc, 'info:CreationDate')),
      mod_date: pdfDateToIso(meta(doc, 'info:ModDate')),
      version: meta(doc, 'format'),
      encrypted: encryption !== null && encryption !== 'None',
    };
    return { status: 'ok', info };
  } catch (err) {
    return { status: 'corrupt', message: (err as Error).message || 'cannot read PDF' };
  }
};

interface Raster {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** What a page is rendered from: the page itself (one render) or its display list (several). */
interface Renderable {
  getBounds(): mupdf.Rect;
  toPixmap(matrix: mupdf.Matrix, colorspace: mupdf.ColorSpace, alpha?: boolean): mupdf.Pixmap;
}

const rasterize = (list: Renderable, scale: number, gray = false): Raster => {
  const cs = gray ? mupdf.ColorSpace.DeviceGray : mupdf.ColorSpace.DeviceRGB;
  const pix = list.toPixmap(mupdf.Matrix.scale(scale, scale), cs, false);
  try {
    const width = pix.getWidth();
    const height = pix.getHeight();
    const channels = gray ? 1 : 3;
    const px = pix.getPixels();
    // Copy out of WASM memory: the view dies with the pixmap (or when the heap grows).
    const tight = width * channels;
    const stride = pix.getStride();
    let data: Buffer;
    if (stride === tight) {
      data = Buffer.from(px);
    } else {
      data = Buffer.allocUnsafe(tight * height);
      for (let y = 0; y < height; y++)
        data.set(px.subarray(y * stride, y * stride + tight), y * tight);
    }
    return { data, width, height, channels };
  } finally {
    pix.destroy();
  }
};

const fitScale = (bounds: mupdf.Rect, maxSide: number): number => {
  const w = bounds[2] - bounds[0];
  const h = bounds[3] - bounds[1];
  return maxSide / Math.max(w, h, 1);
};

const encodeJpeg = (r: Raster, quality: number, fit?: number): Promise<Buffer> => {
  let img = sharp(r.data, { raw: { width: r.width, height: r.height, channels: r.channels } });
  if (fit !== undefined && (r.width > fit || r.height > fit)) {
    img = img.resize(fit, fit, { fit: 'inside' });
  }
  return img.jpeg({ quality, mozjpeg: false }).toBuffer();
};

const renderFit = (list: Renderable, spec: FitJpegSpec): Promise<Buffer> =>
  encodeJpeg(rasterize(list, fitScale(list.getBounds(), spec.maxSide)), spec.quality, spec.maxSide);

const isDctOnly = (filter: mupdf.PDFObject): boolean => {
  if (filter.isName()) return filter.asName() === 'DCTDecode';
  if (filter.isArray() && filter.length === 1) {
    const only = filter.get(0);
    return only.isName() && only.asName() === 'DCTDecode';
  }
  return false;
};

/** Writes the image XObjects of a page as `embedded_<page>_<n>.jpg|png`. */
const extractEmbedded = async (
  doc: mupdf.Document,
  page: mupdf.Page,
  pageNo: number,
  outDir: string,
): Promise<string[]> => {
  const pdf = doc.asPDF();
  if (!pdf || !(page instanceof mupdf.PDFPage)) return [];
  const xobjects = page.getObject().getInheritable('Resources').get('XObject');
  if (!xobjects.isDictionary()) return [];
  const refs: mupdf.PDFObject[] = [];
  xobjects.forEach((value) => {
    if (value.get('Subtype').isName() && value.get('Subtype').asName() === 'Image')
      refs.push(value);
  });
  const names: string[] = [];
  for (const ref of refs) {
    const n = names.length + 1;
    const base = `embedded_${pad3(pageNo)}_${String(n).padStart(2, '0')}`;
    try {
      if (isDctOnly(ref.get('Filter'))) {
        const name = `${base}.jpg`;
        await writeFile(path.join(outDir, name), Buffer.from(ref.readRawStream().asUint8Array()));
        names.push(name);
        continue;
      }
      const image = pdf.loadImage(ref);
      let pix = image.toPixmap();
      const cs = pix.getColorSpace();
      if (cs && !cs.isRGB() && !cs.isGray())
        pix = pix.convertToColorSpace(mupdf.ColorSpace.DeviceRGB, true);
      const name = `${base}.png`;
      await writeFile(path.join(outDir, name), Buffer.from(pix.asPNG()));
      pix.destroy();
      names.push(name);
    } catch {
      // An image MuPDF cannot decode is skipped; the page itself is still processed.
    }
  }
  return names;
};

const pgm = (r: Raster): Uint8Array => {
  const header = Buffer.from(`P5\n${r.width} ${r.height}\n255\n`, 'latin1');
  return Buffer.concat([header, r.data]);
};

const emptyPageOutput = (page: number): PdfPageOutput => ({
  page,
  text: null,
  main: null,
  preview: null,
  highRes: null,
  embedded: [],
  ocrImage: null,
  visionImage: null,
  error: null,
});

const processPage = async (
  doc: mupdf.Document,
  task: PdfPagesTask,
  pageNo: number,
): Promise<PdfPageOutput> => {
  const out = emptyPageOutput(pageNo);
  const page = doc.loadPage(pageNo - 1);
  // Several renders of one page replay a display list instead of re-interpreting the content
  // stream each time; a single render (or text only) goes straight from the page.
  const renders =
    (task.main ? 1 : 0) +
    (task.preview && !task.main ? 1 : 0) +
    (task.highRes ? 1 : 0) +
    (task.ocrDpi ? 1 : 0) +
    (task.vision ? 1 : 0);
  const displayList = renders > 1 ? page.toDisplayList(true) : null;
  const pageRenderable: Renderable = {
    getBounds: () => page.getBounds(),
    toPixmap: (matrix, cs, alpha) => page.toPixmap(matrix, cs, alpha, true),
  };
  const list = (): Renderable => displayList ?? pageRenderable;
  try {
    if (task.text) {
      const st = page.toStructuredText('preserve-whitespace');
      out.text = st.asText();
      st.destroy();
    }
    const n = pad3(pageNo);
    const writes: Promise<void>[] = [];
    if (task.main) {
      const mainRaster = rasterize(list(), fitScale(list().getBounds(), task.main.maxSide));
      out.main = `image_${n}.jpg`;
      writes.push(
        encodeJpeg(mainRaster, task.main.quality, task.main.maxSide).then((buf) =>
          writeFile(path.join(task.outDir, `image_${n}.jpg`), buf),
        ),
      );
      if (task.preview) {
        // Downscale the main raster instead of rendering the page a second time.
        const spec = task.preview;
        out.preview = `preview_${n}.jpg`;
        writes.push(
          encodeJpeg(mainRaster, spec.quality, spec.maxSide).then((buf) =>
            writeFile(path.join(task.outDir, `preview_${n}.jpg`), buf),
          ),
        );
      }
    } else if (task.preview) {
      out.preview = `preview_${n}.jpg`;
      writes.push(
        renderFit(list(), task.preview).then((buf) =>
          writeFile(path.join(task.outDir, `preview_${n}.jpg`), buf),
        ),
      );
    }
    if (task.highRes) {
      const spec = task.highRes;
      out.highRes = `page_${n}.jpeg`;
      const raster = rasterize(list(), spec.dpi / 72);
      writes.push(
        encodeJpeg(raster, spec.quality).then((buf) =>
          writeFile(path.join(task.outDir, `page_${n}.jpeg`), buf),
        ),
      );
    }
    if (task.ocrDpi) out.ocrImage = pgm(rasterize(list(), task.ocrDpi / 72, true));
    if (task.vision) {
      const v = task.vision;
      out.visionImage = await encodeJpeg(rasterize(list(), v.dpi / 72), v.quality, v.maxSide);
    }
    if (task.embeddedImages) out.embedded = await extractEmbedded(doc, page, pageNo, task.outDir);
    await Promise.all(writes);
  } finally {
    displayList?.destroy();
    page.destroy();
  }
  return out;
};

export const processPdfPages = async (task: PdfPagesTask): Promise<PdfPageOutput[]> => {
  const doc = openCached(task.filePath);
  const results: PdfPageOutput[] = [];
  for (const pageNo of task.pages) {
    try {
      results.push(await processPage(doc, task, pageNo));
    } catch (err) {
      results.push({ ...emptyPageOutput(pageNo), error: (err as Error).message || String(err) });
    }
  }
  return results;
};
