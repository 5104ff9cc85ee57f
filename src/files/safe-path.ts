/**
 * Resolving a client-given path inside a root directory, safely:
 * - decoded exactly once by the caller; NUL and other control characters are refused (400);
 * - `..` segments are refused (403) — also when they appear only after a second decoding
 *   (`%2e%2e`, `%252e`), and backslashes count as separators;
 * - the lexical result must lie inside the root, and so must the real path after symlinks
 *   are resolved (a symlink pointing out of the root is 403);
 * - an optional extension allow-list (400), a missing file or a directory (404).
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export type SafePathFailure = 'bad_request' | 'forbidden' | 'not_found';

export type SafePathResult = { ok: true; path: string; relative: string } | { ok: false; reason: SafePathFailure; message: string };

export interface SafePathOptions {
  /** Allowed extensions, lower case with dot (e.g. `['.txt']`); default any. */
  extensions?: readonly string[];
  /** Leading prefixes that name the root itself (e.g. `cache/` for the original's `cache/pdf/…` form). */
  rootAliases?: readonly string[];
}

const fail = (reason: SafePathFailure, message: string): SafePathResult => ({ ok: false, reason, message });

/** True when `child` is `root` or lies below it (both absolute and normalised). */
export const isInside = (root: string, child: string): boolean => {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

const decodesToDotDot = (segment: string): boolean => {
  let s = segment;
  for (let i = 0; i < 3; i++) {
    if (s === '..' || s === '.') return s === '..';
    try {
      const d = decodeURIComponent(s);
      if (d === s) return false;
      s = d;
    } catch {
      return false;
    }
  }
  return s === '..';
};

export const resolveInside = async (root: string, requested: string, opts: SafePathOptions = {}): Promise<SafePathResult> => {
  if (typeof requested !== 'string' || requested.length === 0) return fail('bad_request', 'no path given');
  if (requested.length > 4096) return fail('bad_request', 'path too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(requested)) return fail('bad_request', 'control characters in path');
  const normalised = requested.replace(/\\/g, '/');
  const segments = normalised.split('/');
  if (segments.some(decodesToDotDot)) return fail('forbidden', 'path traversal is not allowed');
  const rootAbs = resolve(root);
  let rel = normalised;
  let candidate: string;
  if (/^[a-zA-Z]:\//.test(rel)) return fail('forbidden', 'path outside the allowed root');
  if (rel.startsWith('/')) {
    candidate = resolve(rel);
  } else {
    for (const alias of opts.rootAliases ?? []) {
      if (rel.startsWith(alias)) {
        rel = rel.slice(alias.length);
        break;
      }
    }
    candidate = resolve(rootAbs, rel);
  }
  if (!isInside(rootAbs, candidate)) return fail('forbidden', 'path outside the allowed root');
  if (opts.extensions) {
    const lower = candidate.toLowerCase();
    if (!opts.extensions.some((e) => lower.endsWith(e))) return fail('bad_request', `only ${opts.extensions.join(', ')} files are served`);
  }
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(rootAbs);
  } catch {
    return fail('not_found', 'file not found');
  }
  try {
    real = await realpath(candidate);
  } catch {
    return fail('not_found', 'file not found');
  }
  if (!isInside(realRoot, real)) return fail('forbidden', 'path outside the allowed root');
  if (opts.extensions && !opts.extensions.some((e) => real.toLowerCase().endsWith(e))) {
    return fail('bad_request', `only ${opts.extensions.join(', ')} files are served`);
  }
  try {
    const st = await stat(real);
    if (!st.isFile()) return fail('not_found', 'file not found');
  } catch {
    return fail('not_found', 'file not found');
  }
  return { ok: true, path: real, relative: relative(realRoot, real).split(sep).join('/') };
};
