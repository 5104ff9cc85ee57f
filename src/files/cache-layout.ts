/**
 * The cache layout (DESIGN §7): `cache/uploads/` for uploads and downloads, and
 * `cache/pdf/<content-hash>/<method-subdir>/` for PDF work. Results carry API URLs and paths
 * relative to the cache root (written `cache/<rel>`, the original's form), never raw paths.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { relative, sep } from 'node:path';

export const uploadsDir = (cacheDir: string): string => `${cacheDir}${sep}uploads`;

/** Each process's empty upload files, prepared ahead of time (`UploadReserve`). */
export const uploadReserveDir = (cacheDir: string): string => `${cacheDir}${sep}.upload-reserve`;

/** SHA-256 of a file's content, streamed. */
export const hashFile = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });

export const shortHash = (text: string, length = 8): string => createHash('sha256').update(text).digest('hex').slice(0, length);

/** `cache/<path relative to the cache root>` with forward slashes. */
export const cacheRelative = (cacheDir: string, absolute: string): string =>
  `cache/${relative(cacheDir, absolute).split(sep).join('/')}`;

/** The API URL serving a `.txt` file of the cache. */
export const textContentUrl = (cacheRel: string): string =>
  `/api/pdf/text-content/${cacheRel.split('/').map(encodeURIComponent).join('/')}`;
