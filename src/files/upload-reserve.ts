/**
 * Empty upload files, created ahead of time while the API is quiet.
 *
 * Creating a file is the expensive part of storing a small upload: on this project's ext4 VMs
 * a new inode costs 150–300 µs of kernel CPU, writing 150 KB into an existing empty file about
 * 35 µs, and renaming it 15 µs (measured with `openSync`/`writeSync`/`renameSync` loops). Under
 * a burst of 200 uploads those creates compete with the event loop for the same cores. The
 * reserve moves them to quiet moments: `take()` renames one prepared file to its final name
 * `upload_<uuid><ext>` (one synchronous rename), and the reserve refills itself once no upload
 * was taken for `idleMs`, one file at a time so it never occupies more than one fs thread.
 *
 * The files live in `<cache>/.upload-reserve/<process uuid>/` (beside, not in, the uploads
 * folder, which stays a plain list of uploads), so processes sharing a cache never take each
 * other's files. A reserve that cannot be filled (folder removed, disk full, a
 * read-only cache) just stays empty: `take()` answers null and the caller creates the file as
 * before. Retention may sweep a long-idle reserve file; its rename then fails and `take()`
 * tries the next one.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A reserve folder untouched this long belongs to a process that is gone. */
const STALE_MS = 24 * 3600 * 1000;

export interface UploadReserveOptions {
  /** The uploads folder (`cache/uploads`), where taken files go. */
  dir: string;
  /** The folder that holds each process's reserve (`cache/.upload-reserve`). */
  reserveDir: string;
  /** Files kept ready; 0 turns the reserve off. */
  size: number;
  /** Refill only after no upload was taken for this long. Default 250 ms. */
  idleMs?: number;
  /** Told once when the reserve cannot be filled (it then stays empty). */
  onError?: (err: Error) => void;
}

/** Resolves after `ms`; does not keep the process alive. */
const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

export class UploadReserve {
  /** Where this process keeps its prepared files. */
  readonly home: string;
  private readonly ready: string[] = [];
  private readonly idleMs: number;
  private created = 0;
  private lastTake = 0;
  /** The running fill loop, if any. */
  private filling: Promise<void> | null = null;
  private broken = false;
  private closed = false;

  constructor(private readonly opts: UploadReserveOptions) {
    this.home = join(opts.reserveDir, randomUUID());
    this.idleMs = opts.idleMs ?? 250;
  }

  /** Files ready to be taken. */
  get available(): number {
    return this.ready.length;
  }

  /**
   * Starts filling in the background, and removes the reserves of processes that ended
   * without closing theirs (untouched for a day; a live process whose reserve went that way
   * just fills a new one).
   */
  start(): void {
    this.refill();
    void this.removeStale();
  }

  /**
   * A new empty file `upload_<uuid><ext>` in the uploads folder, or null when none is ready
   * (the caller then creates one itself). `ext` is already sanitised, with its dot, or ''.
   */
  take(ext: string): string | null {
    this.lastTake = Date.now();
    this.refill();
    while (this.ready.length) {
      const from = this.ready.pop()!;
      const to = join(this.opts.dir, `upload_${randomUUID()}${ext}`);
      try {
        renameSync(from, to);
        return to;
      } catch {
        // the uploads folder is gone (the caller re-creates it): keep the file for later
        if (existsSync(from)) {
          this.ready.push(from);
          return null;
        }
        // this file was swept or removed by a person: try the next one
      }
    }
    return null;
  }

  /** Stops filling and removes the files nobody took. */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    this.ready.length = 0;
    // a broken cache folder must not fail the shutdown
    await rm(this.home, { recursive: true, force: true }).catch(() => undefined);
  }

  private async removeStale(): Promise<void> {
    const cutoff = Date.now() - STALE_MS;
    const names = await readdir(this.opts.reserveDir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(this.opts.reserveDir, name);
      if (path === this.home) continue;
      const s = await stat(path).catch(() => null);
      if (s && s.mtimeMs < cutoff)
        await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Runs the fill loop unless it runs already (or the reserve is off, broken or closed). */
  private refill(): void {
    if (this.closed || this.broken || this.opts.size <= 0 || this.filling) return;
    this.filling = this.fill().finally(() => {
      this.filling = null;
    });
  }

  /** Creates files one at a time, each only once no upload was taken for `idleMs`. */
  private async fill(): Promise<void> {
    let folders = false;
    while (!this.closed && this.ready.length < this.opts.size) {
      // uploads are arriving: creating files now would compete with them
      const quietFor = Date.now() - this.lastTake;
      if (quietFor < this.idleMs) {
        await pause(this.idleMs - quietFor);
        continue;
      }
      try {
        if (!folders) {
          await mkdir(this.home, { recursive: true });
          await mkdir(this.opts.dir, { recursive: true });
          folders = true;
        }
        const path = join(this.home, `r${++this.created}`);
        await writeFile(path, '', { flag: 'wx' });
        this.ready.push(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.broken = true;
          this.opts.onError?.(err as Error);
          return;
        }
        // the folder was removed under us: its files are gone; start over, later
        this.ready.length = 0;
        folders = false;
        await pause(this.idleMs);
      }
    }
  }
}
