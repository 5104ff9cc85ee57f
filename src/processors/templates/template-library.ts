/**
 * Finds and caches templates in one directory (`processors.templates.dir`; default
 * `<home>/templates` when it exists, else the `templates/` folder shipped with Secretary).
 *
 * - Lookup is case-insensitive; with a language, `<Name>_<lang>.md` is tried before `<Name>.md`.
 * - A name with a path separator, `..`, a leading dot or a control character is refused with
 *   `INVALID_PARAMETERS` (the original joined the name into a path as given).
 * - An unknown name answers `TEMPLATE_NOT_FOUND` with up to five close names.
 * - Parsed templates are cached by path, mtime and size (the original re-read the file on every
 *   call); an edited file is picked up on the next lookup.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute, join, resolve } from 'node:path';
import { SecretaryError } from '../../core/errors.js';
import { parseTemplate } from './template-parser.js';
import type { ParsedTemplate } from './template-types.js';

export interface LoadedTemplate {
  /** The file's name without `.md` (as on disk), or null for inline content. */
  name: string | null;
  /** The text as given (system prompt included). */
  content: string;
  parsed: ParsedTemplate;
}

/** The `templates/` folder of this installation (two levels above `src|dist/processors/templates`). */
export const bundledTemplatesDir = (): string =>
  fileURLToPath(new URL('../../../templates/', import.meta.url));

/** Configured dir (relative to home) → `<home>/templates` if it exists → the bundled one. */
export const resolveTemplatesDir = (
  configured: string | null | undefined,
  home: string,
): string => {
  if (configured) return isAbsolute(configured) ? configured : resolve(home, configured);
  const own = join(home, 'templates');
  return existsSync(own) ? own : bundledTemplatesDir();
};

const invalid = (problem: string): SecretaryError =>
  new SecretaryError('INVALID_PARAMETERS', `template: ${problem}`, {
    details: [{ path: '/template', problem }],
  });

/** The name without `.md`; throws `INVALID_PARAMETERS` for anything that could leave the directory. */
export const checkTemplateName = (name: string): string => {
  const n = name.trim().replace(/\.md$/i, '');
  if (!n) throw invalid('must not be empty');
  if (n.length > 200) throw invalid('must be at most 200 characters');
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f]/.test(n)) throw invalid('must be a template name, not a path');
  if (n.includes('..') || n.startsWith('.')) throw invalid('must be a template name, not a path');
  return n;
};

/** ISO 639-1 from `de`, `de-DE`, `DE`; null for `auto` or anything else. */
const languageSuffix = (lang: string | null | undefined): string | null => {
  const m = /^([a-z]{2})(?:[-_][a-z]{2})?$/i.exec((lang ?? '').trim());
  return m ? m[1]!.toLowerCase() : null;
};

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
};

/** Up to `n` names close to `query` (substring matches first, then by edit distance). */
export const closeNames = (query: string, names: string[], n = 5): string[] => {
  const q = query.toLowerCase();
  return names
    .map((name) => {
      const l = name.toLowerCase();
      const stem = l.replace(/_[a-z]{2}$/, '');
      const d = l.includes(q) || q.includes(stem) ? 0 : Math.min(distance(q, l), distance(q, stem));
      return { name, d };
    })
    .filter((x) => x.d <= Math.max(3, Math.floor(q.length / 2)))
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, n)
    .map((x) => x.name);
};

interface CacheEntry {
  mtimeMs: number;
  size: number;
  template: LoadedTemplate;
}

export class TemplateLibrary {
  private listing: { mtimeMs: number; files: Map<string, string[]> } | null = null;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(readonly dir: string) {}

  /** `lowercase stem → file names` of the directory's `.md` files (re-read when the dir changes). */
  private files(): Map<string, string[]> {
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(this.dir).mtimeMs;
    } catch {
      return new Map();
    }
    if (this.listing?.mtimeMs === mtimeMs) return this.listing.files;
    const files = new Map<string, string[]>();
    for (const f of readdirSync(this.dir)) {
      if (!/\.md$/i.test(f)) continue;
      const key = f.slice(0, -3).toLowerCase();
      files.set(key, [...(files.get(key) ?? []), f]);
    }
    this.listing = { mtimeMs, files };
    return files;
  }

  /** Template names (file stems as on disk), sorted. */
  names(): string[] {
    return [...this.files().values()]
      .flat()
      .map((f) => f.slice(0, -3))
      .sort((a, b) => a.localeCompare(b));
  }

  /** The file a name (and language) resolves to; throws `INVALID_PARAMETERS` or `TEMPLATE_NOT_FOUND`. */
  resolve(name: string, language?: string | null): { name: string; path: string } {
    const base = checkTemplateName(name);
    const lang = languageSuffix(language);
    const tried =
      lang && !base.toLowerCase().endsWith(`_${lang}`) ? [`${base}_${lang}`, base] : [base];
    const files = this.files();
    for (const candidate of tried) {
      const matches = files.get(candidate.toLowerCase());
      if (!matches?.length) continue;
      const file = matches.find((f) => f.slice(0, -3) === candidate) ?? matches[0]!;
      return { name: file.slice(0, -3), path: join(this.dir, file) };
    }
    const suggestions = closeNames(base, this.names());
    throw new SecretaryError(
      'TEMPLATE_NOT_FOUND',
      `no template ${JSON.stringify(base)} (tried ${tried.map((t) => `${t}.md`).join(', ')}, case-insensitive)` +
        (suggestions.length ? `; close names: ${suggestions.join(', ')}` : '') +
        '. Send template_content instead, or add the file to the templates directory (processors.templates.dir).',
      { template: base, language: lang, tried, suggestions },
    );
  }

  /** The parsed template of a name; cached by path, mtime and size. */
  load(name: string, language?: string | null): LoadedTemplate {
    const { name: found, path } = this.resolve(name, language);
    let st: { mtimeMs: number; size: number };
    let content: string;
    try {
      st = statSync(path);
      const hit = this.cache.get(path);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.template;
      content = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SecretaryError(
        'TEMPLATE_ERROR',
        `template ${found} could not be read: ${err instanceof Error ? err.message : String(err)}`,
        { template: found, error_type: 'TemplateReadError' },
      );
    }
    const template: LoadedTemplate = { name: found, content, parsed: parseTemplate(content) };
    this.cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, template });
    return template;
  }
}

/** An inline template (`template_content`), parsed like a file. */
export const inlineTemplate = (content: string): LoadedTemplate => ({
  name: null,
  content,
  parsed: parseTemplate(content),
});
