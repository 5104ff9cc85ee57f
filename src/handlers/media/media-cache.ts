/**
 * Finished transcripts cached under `cache/media/<content-hash>/<options-hash>.json`, keyed by
 * the SHA-256 of the media **content** plus everything that shapes the transcript (languages,
 * template, provider, model, prompt) — never by the file name (the original keyed on the name,
 * so two different `recording.mp3` shared one transcript, original §5.4). Written to a temp
 * file and renamed, so a reader never sees half an entry; a broken entry is a miss.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { shortHash } from '../../files/cache-layout.js';
import type { TranscriptSegment } from '../../processors/llm/index.js';
import type { TranscriptTemplateOutput } from './transcript-template.js';

export interface CachedTranscript {
  text: string;
  segments: TranscriptSegment[];
  language: string | null;
  duration_sec: number;
  segment_count: number;
  /** The template step's result when a template was applied. */
  template_result: TranscriptTemplateOutput | null;
  format: string;
  has_video: boolean;
  provider: string;
  model: string;
  created_at: string;
}

export interface MediaCacheKeyParts {
  sourceLanguage: string | null;
  targetLanguage: string | null;
  template: string | null;
  provider: string;
  model: string;
  prompt: string | null;
}

export const mediaCacheKey = (contentHash: string, p: MediaCacheKeyParts): string =>
  shortHash(
    JSON.stringify([
      contentHash,
      p.sourceLanguage ?? 'auto',
      p.targetLanguage,
      p.template ? p.template.toLowerCase() : null,
      p.provider,
      p.model,
      p.prompt,
    ]),
    32,
  );

export const mediaCachePath = (cacheDir: string, contentHash: string, key: string): string =>
  join(cacheDir, 'media', contentHash.slice(0, 32), `${key}.json`);

export const readCachedTranscript = async (path: string): Promise<CachedTranscript | null> => {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as CachedTranscript;
    return typeof v.text === 'string' && v.text.trim() && Array.isArray(v.segments) ? v : null;
  } catch {
    return null;
  }
};

export const writeCachedTranscript = async (
  path: string,
  value: CachedTranscript,
): Promise<void> => {
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, path);
  } catch {
    // a cache that cannot be written only costs the next job its shortcut
    await rm(tmp, { force: true });
  }
};
