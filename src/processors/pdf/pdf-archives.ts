import path from 'node:path';
import { writeZip } from '../archive/zip-writer.js';
import type { PdfFiles } from './types.js';

export interface ArchiveRequest {
  dir: string;
  files: PdfFiles;
  /** `previews.zip`: all previews. */
  previewsZip: boolean;
  /** `pages.zip`: previews and high-res pages, flat (as for the original's Mistral pages). */
  pagesZip: boolean;
  /** `<stem>_images.zip`: main images, previews and embedded images, flat. */
  imagesZip: boolean;
  stem: string;
  signal?: AbortSignal;
}

const safeStem = (stem: string): string =>
  stem.replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(0, 100) || 'document';

/** Writes the requested archives into `dir`; returns their names (relative to `dir`). */
export const writeArchives = async (req: ArchiveRequest): Promise<PdfFiles['archives']> => {
  const { dir, files, signal } = req;
  const entries = (names: readonly string[]) =>
    names.map((name) => ({ name, filePath: path.join(dir, name) }));
  const archives: PdfFiles['archives'] = {};
  if (req.previewsZip && files.previews.length > 0) {
    await writeZip(path.join(dir, 'previews.zip'), entries(files.previews), signal);
    archives.previews = 'previews.zip';
  }
  const pageSet = [...files.previews, ...files.high_res];
  if (req.pagesZip && pageSet.length > 0) {
    await writeZip(path.join(dir, 'pages.zip'), entries(pageSet), signal);
    archives.pages = 'pages.zip';
  }
  const imageSet = [...files.images, ...files.previews, ...files.embedded_images];
  if (req.imagesZip && imageSet.length > 0) {
    const name = `${safeStem(req.stem)}_images.zip`;
    await writeZip(path.join(dir, name), entries(imageSet), signal);
    archives.images = name;
  }
  return archives;
};
