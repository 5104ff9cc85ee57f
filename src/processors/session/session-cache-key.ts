/**
 * The session cache key (original §8 step 1): SHA-256 of the JSON of
 * `{event, session, url, track, target_language, template}` plus, when given, `video_url`,
 * `video_transcript_hash` (first 16 hex digits of the transcript's SHA-256) and
 * `attachments_url` — serialised as Python's `json.dumps(sort_keys=True)` does (`", "` and
 * `": "` separators, non-ASCII as `\uXXXX`), so the key equals the original's for the same
 * inputs and the `cacheId` of existing notes stays valid.
 *
 * Everything else that changes the output (file name, times, speakers, template text, model)
 * is the entry's *fingerprint*: a cached entry is used only when its fingerprint matches.
 */
import { createHash } from 'node:crypto';

export interface SessionKeyInput {
  event: string;
  session: string;
  url: string;
  track: string;
  target_language: string;
  template: string;
  video_url?: string | null;
  video_transcript?: string | null;
  attachments_url?: string | null;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** A string as Python's `json.dumps` writes it (ensure_ascii). */
const pyString = (s: string): string =>
  JSON.stringify(s).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** `json.dumps(value, sort_keys=True)` for strings, numbers, booleans, null, arrays and objects. */
export const pythonJson = (value: unknown): string => {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${pyString(k)}: ${pythonJson(v)}`).join(', ')}}`;
};

export const sessionCacheKey = (i: SessionKeyInput): string => {
  const key: Record<string, string> = {
    event: i.event,
    session: i.session,
    url: i.url,
    track: i.track,
    target_language: i.target_language,
    template: i.template,
  };
  if (i.video_url) key.video_url = i.video_url;
  if (i.video_transcript) key.video_transcript_hash = sha256(i.video_transcript).slice(0, 16);
  if (i.attachments_url) key.attachments_url = i.attachments_url;
  return sha256(pythonJson(key));
};

/** SHA-256 (hex) of the sorted JSON of everything else that shapes the output. */
export const sessionFingerprint = (parts: Record<string, unknown>): string =>
  sha256(pythonJson(parts));
