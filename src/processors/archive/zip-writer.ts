import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { abortError } from '../abort.js';

/** One file to put into an archive. */
export interface ZipEntry {
  /** Name inside the archive (flat names like `preview_001.jpg`, or with `/` folders). */
  name: string;
  /** Path of the file on disk. */
  filePath: string;
  /** Compress with DEFLATE. Default: false for already-compressed media (jpg, png, zip). */
  compress?: boolean;
}

const COMPRESSED = /\.(jpe?g|png|gif|webp|jp2|zip|gz|mp3|mp4)$/i;

/**
 * Writes a ZIP archive to `outPath`, streaming every file through fflate in chunks, so the
 * archive is never held in memory and the event loop is never blocked for long (CRC and
 * DEFLATE work on 64 KiB chunks). Already-compressed media is stored, text is deflated.
 * On error or abort the partial archive is removed.
 */
export const writeZip = async (
  outPath: string,
  entries: readonly ZipEntry[],
  signal?: AbortSignal,
): Promise<void> => {
  const out = createWriteStream(outPath);
  let zipError: Error | null = null;
  const finished = new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.on('finish', resolve);
  });
  finished.catch(() => undefined);
  const zip = new Zip((err, data, final) => {
    if (err) {
      zipError = err;
      return;
    }
    out.write(data);
    if (final) out.end();
  });
  try {
    for (const entry of entries) {
      if (signal?.aborted) throw abortError(signal);
      const compress = entry.compress ?? !COMPRESSED.test(entry.name);
      const file = compress
        ? new ZipDeflate(entry.name, { level: 6 })
        : new ZipPassThrough(entry.name);
      zip.add(file);
      for await (const chunk of createReadStream(entry.filePath, { highWaterMark: 64 * 1024 })) {
        file.push(chunk as Buffer, false);
        if (zipError) throw zipError;
        if (out.writableNeedDrain) await once(out, 'drain');
      }
      file.push(new Uint8Array(0), true);
    }
    zip.end();
    if (zipError) throw zipError;
    await finished;
  } catch (err) {
    zip.terminate();
    out.destroy();
    await rm(outPath, { force: true });
    throw err;
  }
};
