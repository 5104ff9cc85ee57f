/**
 * Provider answers cached on disk under `cache/llm/<hh>/<hash>.json`, keyed by a hash of
 * everything that shapes the answer (provider, model, messages incl. images, parameters).
 * Shared by all processes that share the cache directory; writes go to a temp file and are
 * renamed, so a reader never sees half an entry. A broken entry counts as a miss.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** JSON with sorted object keys, so equal requests hash equally; bytes become their hash. */
const stable = (v: unknown): unknown => {
  if (v instanceof Uint8Array)
    return { bytes_sha256: createHash('sha256').update(v).digest('hex') };
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, stable((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
};

export const requestHash = (parts: unknown): string =>
  createHash('sha256')
    .update(JSON.stringify(stable(parts)))
    .digest('hex');

export class ResponseCache {
  constructor(private readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get<T>(key: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(this.path(key), 'utf8')) as T;
    } catch {
      return null;
    }
  }

  async set(key: string, value: unknown): Promise<void> {
    const target = this.path(key);
    const tmp = `${target}.${randomUUID()}.tmp`;
    try {
      await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
      await writeFile(tmp, JSON.stringify(value));
      await rename(tmp, target);
    } catch {
      // a cache that cannot be written only costs the next call its answer
      await rm(tmp, { force: true });
    }
  }
}

/** SHA-256 of a file's content, streamed (cache keys of uploads: the content, never the name). */
export const fileSha256 = async (path: string): Promise<string> => {
  const { createReadStream } = await import('node:fs');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};
