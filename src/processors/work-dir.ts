import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * A work directory that becomes visible only when complete: files are written into a
 * sibling temp dir (`<final>.tmp-<random>`) which `commit()` renames onto the final path,
 * so concurrent readers never see half a directory. An existing final dir is replaced
 * (moved aside, then removed). `discard()` removes the temp dir; both are idempotent.
 */
export interface StagedDir {
  /** The temp dir to write into. */
  readonly tempDir: string;
  readonly finalDir: string;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** `rename` onto an existing directory fails with one of these. */
const EXISTS = new Set(['ENOTEMPTY', 'EEXIST', 'EISDIR', 'ENOTDIR']);

const suffix = (): string => `${process.pid}-${randomBytes(4).toString('hex')}`;

export const createStagedDir = async (finalDir: string): Promise<StagedDir> => {
  const absFinal = path.resolve(finalDir);
  await mkdir(path.dirname(absFinal), { recursive: true });
  const tempDir = `${absFinal}.tmp-${suffix()}`;
  await mkdir(tempDir, { recursive: true });
  let settled = false;
  return {
    tempDir,
    finalDir: absFinal,
    async commit() {
      if (settled) return;
      settled = true;
      // Several runs may commit the same final dir at once (same document and options): each
      // moves whatever is there aside and puts its own in place, retrying when another run
      // moved it first; the last one wins, and no run fails because of another.
      const moved: string[] = [];
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            await rename(tempDir, absFinal);
            return;
          } catch (err) {
            if (!EXISTS.has((err as NodeJS.ErrnoException).code ?? '') || attempt >= 20) {
              await rm(tempDir, { recursive: true, force: true });
              throw err;
            }
          }
          // the final dir exists (an earlier run): move it aside and try again
          const old = `${absFinal}.old-${suffix()}`;
          try {
            await rename(absFinal, old);
            moved.push(old);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
            await rm(tempDir, { recursive: true, force: true });
            throw err;
          }
        }
      } finally {
        for (const old of moved) await rm(old, { recursive: true, force: true });
      }
    },
    async discard() {
      if (settled) return;
      settled = true;
      await rm(tempDir, { recursive: true, force: true });
    },
  };
};

/** `page_007.txt`-style 3-digit, 1-based page numbers (wider when a document has ≥ 1000 pages). */
export const pad3 = (n: number): string => String(n).padStart(3, '0');
