/**
 * DOCX → Markdown: mammoth turns the document's structure (heading styles, lists from the
 * numbering part, tables, bold/italic, links, footnotes) into semantic HTML, turndown turns
 * that into Markdown. Embedded pictures are written to `<outDir>/images/image_###.<ext>` and
 * linked as `images/…`; without `includeImages` only their alt text stays.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import mammoth from 'mammoth';
import { pad3 } from '../work-dir.js';
import { createTurndown, tidyMarkdown } from './html-to-markdown.js';

/** Styles Word users give titles; the default map only knows `Heading N`. */
const STYLE_MAP = [
  "p[style-name='Title'] => h1:fresh",
  "p[style-name='Subtitle'] => h2:fresh",
  "p[style-name='Titel'] => h1:fresh",
  "p[style-name='Untertitel'] => h2:fresh",
];

const EXT: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'image/x-emf': 'emf',
  'image/x-wmf': 'wmf',
};

export interface DocxMarkdown {
  markdown: string;
  images: string[];
  warnings: string[];
}

export const docxToMarkdown = async (
  bytes: Uint8Array,
  opts: { outDir: string; includeImages: boolean },
): Promise<DocxMarkdown> => {
  const images: string[] = [];
  const imagesDir = path.join(opts.outDir, 'images');
  const convertImage = mammoth.images.imgElement(async (image) => {
    if (!opts.includeImages) return { src: '' };
    const ext = EXT[image.contentType.toLowerCase()] ?? 'bin';
    const name = `images/image_${pad3(images.length + 1)}.${ext}`;
    images.push(name);
    await mkdir(imagesDir, { recursive: true });
    await writeFile(path.join(opts.outDir, name), await image.readAsBuffer());
    return { src: name };
  });
  const result = await mammoth.convertToHtml(
    { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
    { styleMap: STYLE_MAP, convertImage, externalFileAccess: false, ignoreEmptyParagraphs: true },
  );
  const markdown = tidyMarkdown(createTurndown().turndown(result.value));
  return {
    markdown,
    images,
    warnings: result.messages.map((m) => m.message).slice(0, 50),
  };
};
