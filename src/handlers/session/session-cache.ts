/**
 * The session cache on disk, one directory per cache key (the original's key, §8 step 1):
 *
 * ```
 * cache/session/<key>/result.json   the pipeline's output, input and fingerprint
 * cache/session/<key>/entry.json    the flattened listing entry (GET /api/session/cached)
 * cache/session/<key>/<fp>.zip      the archive of that output
 * ```
 *
 * Unlike the original (which wrote and never read it) the cache is read: an entry is a hit when
 * its fingerprint (everything else that shapes the output) matches and its Markdown file (and
 * archive, when one was asked for) still exist. Files are written to a temp name and renamed.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionInput } from '../../processors/session/index.js';
import type { StepRecord } from '../../processors/session/index.js';

export interface SessionCacheRecord {
  version: 1;
  cache_key: string;
  fingerprint: string;
  created_at: string;
  /** The job that produced it. */
  job_id: string;
  user_id: string | null;
  input: SessionInput & { filename: string };
  output: {
    web_text: string;
    page_title: string;
    video_transcript: string;
    attachments: string[];
    page_texts: string[];
    markdown_content: string;
    structured_data: Record<string, unknown>;
    template: string | null;
    context: Record<string, unknown>;
    /** Relative to the sessions base dir. */
    markdown_file: string;
    target_dir: string;
    asset_dir: string;
    /** Relative to the cache root (`cache/session/…`), or null. */
    archive_path: string | null;
    archive_filename: string | null;
    archive_entries: string[];
    steps: StepRecord[];
  };
}

/** A flattened listing entry (the original's keys, plus ours). */
export type SessionCacheEntry = Record<string, unknown> & {
  cache_key: string;
  event: string;
  target_language: string;
  user_id: string | null;
};

export const sessionCacheRoot = (cacheDir: string): string => join(cacheDir, 'session');
export const sessionCacheDir = (cacheDir: string, key: string): string =>
  join(sessionCacheRoot(cacheDir), key);

const writeJsonAtomic = async (path: string, value: unknown): Promise<void> => {
  const tmp = `${path}.tmp-${randomUUID()}`;
  await writeFile(tmp, JSON.stringify(value), 'utf8');
  await rename(tmp, path);
};

const readJson = async <T>(path: string): Promise<T | null> => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
};

/** The cached record when it matches `fingerprint` and its files exist; otherwise null. */
export const readSessionCache = async (
  cacheDir: string,
  key: string,
  fingerprint: string,
  files: { markdownFile: string; archive: string | null },
): Promise<SessionCacheRecord | null> => {
  const r = await readJson<SessionCacheRecord>(join(sessionCacheDir(cacheDir, key), 'result.json'));
  if (!r || r.version !== 1 || r.fingerprint !== fingerprint) return null;
  if (!existsSync(files.markdownFile)) return null;
  if (files.archive && !existsSync(files.archive)) return null;
  return r;
};

const scalar = (v: unknown): v is string | number | boolean =>
  ['string', 'number', 'boolean'].includes(typeof v);

/** The listing entry of a record, flattened as the original's `get_cached_sessions`. */
export const flattenEntry = (
  r: SessionCacheRecord,
  urls: { archiveUrl: string | null },
): SessionCacheEntry => {
  const i = r.input;
  const o = r.output;
  const sd = o.structured_data;
  const entry: SessionCacheEntry = {
    cache_id: r.cache_key,
    cache_key: r.cache_key,
    processed_at: r.created_at,
    event: i.event,
    session: i.session,
    track: i.track,
    target_language: i.target_language,
    target: i.target ?? '',
    template: i.template,
    topic: scalar(sd.topic) ? sd.topic : '',
    relevance: scalar(sd.relevance) ? sd.relevance : '',
    web_text: o.web_text,
    video_transcript: o.video_transcript,
    target_dir: `sessions/${o.target_dir}`,
    markdown_file: `sessions/${o.markdown_file}`,
    asset_dir: `sessions/${o.asset_dir}`,
    attachment_count: o.attachments.length,
    page_count: o.page_texts.length,
    process_id: r.job_id,
    job_id: r.job_id,
    url: i.url,
    filename: i.filename,
    day: i.day ?? '',
    starttime: i.starttime ?? '',
    endtime: i.endtime ?? '',
    speakers: i.speakers.join(', '),
    video_url: i.video_url ?? '',
    attachments_url: i.attachments_url ?? '',
    source_language: i.source_language,
    archive_filename: o.archive_filename,
    archive_url: urls.archiveUrl,
    user_id: r.user_id,
  };
  for (const [k, v] of Object.entries(sd)) {
    if (scalar(v)) entry[`structured_${k}`] = v;
    else if (Array.isArray(v))
      entry[`structured_${k}`] = v
        .map((x) => (scalar(x) ? String(x) : JSON.stringify(x)))
        .join(', ');
    else if (v && typeof v === 'object') {
      for (const [sk, sv] of Object.entries(v as Record<string, unknown>))
        entry[`structured_${k}_${sk}`] = scalar(sv) ? String(sv) : JSON.stringify(sv);
    }
  }
  return entry;
};

export const writeSessionCache = async (
  cacheDir: string,
  r: SessionCacheRecord,
  entry: SessionCacheEntry,
): Promise<void> => {
  const dir = sessionCacheDir(cacheDir, r.cache_key);
  await mkdir(dir, { recursive: true });
  await writeJsonAtomic(join(dir, 'result.json'), r);
  await writeJsonAtomic(join(dir, 'entry.json'), entry);
};

/** Every listing entry (unreadable ones skipped), newest first. */
export const listSessionCache = async (cacheDir: string): Promise<SessionCacheEntry[]> => {
  let keys: string[];
  try {
    keys = await readdir(sessionCacheRoot(cacheDir));
  } catch {
    return [];
  }
  const entries = await Promise.all(
    keys
      .filter((k) => /^[0-9a-f]{64}$/.test(k))
      .map((k) => readJson<SessionCacheEntry>(join(sessionCacheDir(cacheDir, k), 'entry.json'))),
  );
  return entries
    .filter((e): e is SessionCacheEntry => e !== null && typeof e.cache_key === 'string')
    .sort((a, b) => String(b.processed_at).localeCompare(String(a.processed_at)));
};

/** The full records of the events `matches` accepts, in one language (for the event summary). */
export const sessionRecordsOf = async (
  cacheDir: string,
  matches: (event: string) => boolean,
  targetLanguage: string,
): Promise<SessionCacheRecord[]> => {
  const entries = (await listSessionCache(cacheDir)).filter(
    (e) => matches(e.event) && e.target_language === targetLanguage,
  );
  const records = await Promise.all(
    entries.map((e) =>
      readJson<SessionCacheRecord>(join(sessionCacheDir(cacheDir, e.cache_key), 'result.json')),
    ),
  );
  return records.filter((r): r is SessionCacheRecord => r !== null && r.version === 1);
};
