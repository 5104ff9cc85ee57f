/**
 * From Mistral OCR answers to our pages: each answer's images are decoded and written to disk
 * as soon as it arrives (so no base64 stays in memory), and once every chunk is in, the pages
 * are put in document order, every image gets a unique file name whose extension matches its
 * bytes, and the Markdown references are rewritten to exactly those names. The raw answer is
 * kept without base64.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sniffFileType, type FileKind } from '../file-type.js';
import type { OcrPage } from '../llm/types.js';
import { pad3 } from '../work-dir.js';

/** One image of a page: the API's box and id, and where its bytes went. */
export interface OcrImageRecord {
  /** The id the API gave it (what its Markdown references). */
  id: string;
  /** Type from the magic bytes; null when the API sent no data. */
  kind: FileKind | null;
  /** The decoded bytes on disk; null when the API sent no data. */
  tmpFile: string | null;
  /** The API's image object without `image_base64`. */
  box: Record<string, unknown>;
}

/** One page of the document as OCR answered it. */
export interface OcrPageRecord {
  /** Real 1-based page number in the document. */
  page: number;
  markdown: string;
  images: OcrImageRecord[];
  /** The API's page object without `images` and `markdown` (dimensions and whatever else). */
  rest: Record<string, unknown>;
}

export interface FinalPages {
  /** `{page, content}` in document order, the Markdown with final image names. */
  textContents: Array<{ page: number; content: string }>;
  /** Images with data, named as the Markdown references them. */
  images: Array<{ name: string; tmpFile: string; page: number }>;
  /** Images the Markdown references for which the API sent no data. */
  missing: string[];
  /** `pages[]` of the raw answer: real 0-based `index`, final names, `image_base64: null`. */
  rawPages: Array<Record<string, unknown>>;
}

/** Strips a `data:image/...;base64,` prefix. */
export const stripDataUrl = (b64: string): string => {
  const comma = b64.startsWith('data:') ? b64.indexOf(',') : -1;
  return comma >= 0 ? b64.slice(comma + 1) : b64;
};

const EXT: Partial<Record<FileKind, string>> = {
  jpeg: 'jpeg',
  png: 'png',
  gif: 'gif',
  webp: 'webp',
  tiff: 'tiff',
};
const IMAGE_EXTS = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'tif', 'tiff', 'bmp']);

const fitsKind = (ext: string, kind: FileKind): boolean =>
  kind === 'jpeg'
    ? ext === 'jpg' || ext === 'jpeg'
    : kind === 'tiff'
      ? ext === 'tif' || ext === 'tiff'
      : ext === kind;

/**
 * A safe flat file name for an image id, its extension taken from the bytes: the id itself
 * when it already fits (`img-0.jpeg` for JPEG bytes), else the stem with the right extension.
 */
export const imageFileName = (id: string, kind: FileKind | null): string => {
  const base =
    (id.split(/[\\/]/).pop() ?? '')
      .replace(/[^\p{L}\p{N}._-]+/gu, '_')
      .replace(/^\.+/, '')
      .slice(0, 120) || 'image';
  const ext = kind ? EXT[kind] : undefined;
  if (!kind || !ext) return base;
  const m = /^(.+)\.([A-Za-z0-9]{1,5})$/.exec(base);
  const current = m?.[2]?.toLowerCase();
  if (m && current && fitsKind(current, kind)) return base;
  const stem = m && current && IMAGE_EXTS.has(current) ? (m[1] as string) : base;
  return `${stem}.${ext}`;
};

const IMAGE_REF = /(!\[)([^\]]*)(\]\()([^)\s]+)(\))/g;

/** Rewrites `![alt](target)` whose target (and alt, when it is an id) is in `rename`. */
export const rewriteImageRefs = (markdown: string, rename: ReadonlyMap<string, string>): string =>
  rename.size === 0
    ? markdown
    : markdown.replace(
        IMAGE_REF,
        (all, open: string, alt: string, mid: string, target: string, close: string) => {
          const to = rename.get(target);
          return to === undefined ? all : `${open}${rename.get(alt) ?? alt}${mid}${to}${close}`;
        },
      );

/** Every image target the Markdown references (`![…](name)`). */
export const imageRefs = (markdown: string): string[] =>
  [...markdown.matchAll(IMAGE_REF)].map((m) => m[4] as string);

/**
 * Turns one OCR answer into page records: `pageNumbers[i]` is the real page of the i-th page
 * asked for. Image bytes are written into `tmpDir` as `<prefix>-<n>.bin` right away.
 */
export const absorbOcrPages = async (
  pages: readonly OcrPage[],
  pageNumbers: readonly number[],
  tmpDir: string,
  prefix: string,
): Promise<OcrPageRecord[]> => {
  const writes: Promise<void>[] = [];
  let n = 0;
  const records = pages.map((p, i): OcrPageRecord => {
    const { images, markdown, index: _index, ...rest } = p as OcrPage & Record<string, unknown>;
    void _index;
    return {
      page: pageNumbers[i] as number,
      markdown: typeof markdown === 'string' ? markdown : '',
      rest,
      images: (images ?? []).map((img): OcrImageRecord => {
        const { image_base64: b64, ...box } = img as typeof img & Record<string, unknown>;
        const id = typeof img.id === 'string' && img.id ? img.id : `img-${n}.jpeg`;
        if (typeof b64 !== 'string' || !b64) return { id, kind: null, tmpFile: null, box };
        const bytes = Buffer.from(stripDataUrl(b64), 'base64');
        if (bytes.length === 0) return { id, kind: null, tmpFile: null, box };
        const tmpFile = path.join(tmpDir, `${prefix}-${n++}.bin`);
        writes.push(writeFile(tmpFile, bytes));
        return { id, kind: sniffFileType(bytes.subarray(0, 16)), tmpFile, box };
      }),
    };
  });
  await Promise.all(writes);
  return records;
};

/** Names every image uniquely (in document order) and rewrites each page's references. */
export const finalizeOcrPages = (records: readonly OcrPageRecord[]): FinalPages => {
  const sorted = [...records].sort((a, b) => a.page - b.page);
  const used = new Set<string>();
  const out: FinalPages = { textContents: [], images: [], missing: [], rawPages: [] };
  for (const rec of sorted) {
    const rename = new Map<string, string>();
    const rawImages: Array<Record<string, unknown>> = [];
    for (const img of rec.images) {
      let name = imageFileName(img.id, img.kind);
      if (used.has(name)) {
        const base = `p${pad3(rec.page)}-${name}`;
        name = base;
        for (let k = 2; used.has(name); k++) name = base.replace(/(\.[^.]+)?$/, `-${k}$1`);
      }
      used.add(name);
      if (name !== img.id) rename.set(img.id, name);
      if (img.tmpFile) out.images.push({ name, tmpFile: img.tmpFile, page: rec.page });
      else out.missing.push(name);
      rawImages.push({ ...img.box, id: name, image_base64: null });
    }
    const markdown = rewriteImageRefs(rec.markdown, rename);
    out.textContents.push({ page: rec.page, content: markdown.trim() });
    out.rawPages.push({ index: rec.page - 1, markdown, images: rawImages, ...rec.rest });
  }
  return out;
};
