/**
 * Where a session's files go, traversal-safe (original §8 steps 2–3, with its bugs fixed):
 *
 * ```
 * <base>/<event>/<lang>/<track>/<file>.md
 * <base>/<event>/assets/<session dir>/preview_NNN.jpg      (shared by all languages)
 * ```
 *
 * Every part is sanitised on its own: `<>:"/\|?*` and control characters become `_`, runs of
 * `_` and of whitespace collapse, format characters (zero-width, bidi overrides) are dropped,
 * leading and trailing dots, `_` and spaces are removed (so no part is `.`, `..` or hidden), Windows
 * device names get a `_`, and the part is cut to 50 characters (code points). Unlike the
 * original, `-` is kept and `.md` is appended only to the file name, never to a directory.
 * A part with nothing usable left, or a raw value with a `..` path segment, is refused.
 */
import { isAbsolute, join, relative } from 'node:path';
import { SecretaryError } from '../../core/errors.js';

/** Longest path part in characters (the original's limit). */
export const PATH_PART_MAX = 50;

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/** One sanitised path part (may be empty: the caller refuses that). */
export const sanitizePathPart = (raw: string, max = PATH_PART_MAX): string => {
  let s = raw
    .normalize('NFC')
    .replace(/\p{Cf}/gu, '')
    .replace(/[<>:"/\\|?*\p{Cc}]/gu, '_')
    .replace(/\s+/g, ' ')
    .replace(/_+/g, '_')
    .replace(/^[._\s]+|[._\s]+$/g, '');
  s = Array.from(s)
    .slice(0, max)
    .join('')
    .replace(/[._\s]+$/, '');
  return WINDOWS_DEVICE.test(s) ? `${s}_` : s;
};

/** True when the raw value has a `..` path segment (`../x`, `a/../b`, `..\\x`, `..`). */
export const hasDotDotSegment = (raw: string): boolean =>
  raw.split(/[/\\]/).some((seg) => seg.trim() === '..');

/** The Markdown file name: the given name (`.md` optional) or the session title, sanitised, + `.md`. */
export const sessionFileName = (filename: string | null | undefined, session: string): string => {
  const stem = (filename?.trim() ? filename.trim() : session).replace(/\.md$/i, '');
  const part = sanitizePathPart(stem);
  return part ? `${part}.md` : '';
};

export interface SessionLayoutInput {
  event: string;
  track: string;
  targetLanguage: string;
  filename: string | null;
  session: string;
}

export interface SessionLayout {
  /** Sanitised parts. */
  eventDir: string;
  languageDir: string;
  trackDir: string;
  fileName: string;
  sessionDir: string;
  /** Paths relative to the base dir, `/`-separated. */
  rel: { targetDir: string; markdownFile: string; assetDir: string };
  /** Absolute paths. */
  abs: { base: string; targetDir: string; markdownFile: string; assetDir: string };
}

const invalid = (problems: Array<{ path: string; problem: string }>): SecretaryError =>
  new SecretaryError(
    'INVALID_PARAMETERS',
    `invalid path parts: ${problems.map((p) => `${p.path.slice(1)} ${p.problem}`).join('; ')}`,
    { details: problems },
  );

/** Problems of the raw values that name paths (for validation at enqueue). */
export const pathProblems = (
  input: SessionLayoutInput,
): Array<{ path: string; problem: string }> => {
  const problems: Array<{ path: string; problem: string }> = [];
  const check = (key: string, raw: string | null | undefined, sanitised: string) => {
    if (raw === null || raw === undefined || raw === '') return;
    if (hasDotDotSegment(raw))
      problems.push({ path: `/${key}`, problem: 'must not contain ".." path segments' });
    else if (!sanitised)
      problems.push({
        path: `/${key}`,
        problem: 'has no characters usable in a file or directory name',
      });
  };
  check('event', input.event, sanitizePathPart(input.event));
  check('track', input.track, sanitizePathPart(input.track));
  check('session', input.session, sanitizePathPart(input.session));
  check('filename', input.filename, sessionFileName(input.filename, input.session));
  check(
    'target_language',
    input.targetLanguage,
    sanitizePathPart(input.targetLanguage.toLowerCase()),
  );
  return problems;
};

const inside = (root: string, child: string): boolean => {
  const rel = relative(root, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/** The session's directories and file; throws `INVALID_PARAMETERS` for unusable or escaping parts. */
export const sessionLayout = (baseDir: string, input: SessionLayoutInput): SessionLayout => {
  const problems = pathProblems(input);
  if (problems.length) throw invalid(problems);
  const eventDir = sanitizePathPart(input.event);
  const trackDir = sanitizePathPart(input.track);
  const languageDir = sanitizePathPart(input.targetLanguage.toLowerCase());
  const fileName = sessionFileName(input.filename, input.session);
  const sessionDir = fileName.replace(/\.md$/, '');
  const missing = [
    ['event', eventDir],
    ['track', trackDir],
    ['target_language', languageDir],
    ['filename', fileName],
  ].filter(([, v]) => !v);
  if (missing.length)
    throw invalid(missing.map(([k]) => ({ path: `/${k}`, problem: 'is required' })));
  const rel = {
    targetDir: `${eventDir}/${languageDir}/${trackDir}`,
    markdownFile: `${eventDir}/${languageDir}/${trackDir}/${fileName}`,
    assetDir: `${eventDir}/assets/${sessionDir}`,
  };
  const abs = {
    base: baseDir,
    targetDir: join(baseDir, eventDir, languageDir, trackDir),
    markdownFile: join(baseDir, eventDir, languageDir, trackDir, fileName),
    assetDir: join(baseDir, eventDir, 'assets', sessionDir),
  };
  // defence in depth: sanitising leaves no separators, but the joined paths are checked anyway
  for (const p of [abs.targetDir, abs.markdownFile, abs.assetDir]) {
    if (!inside(baseDir, p))
      throw invalid([{ path: '/event', problem: 'leads outside the sessions directory' }]);
  }
  return { eventDir, languageDir, trackDir, fileName, sessionDir, rel, abs };
};
