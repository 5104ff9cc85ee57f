/**
 * Parses a template (original §6.1–6.2) into its system prompt, frontmatter entries, body and
 * the fields the model must fill. Pure; no I/O.
 *
 * Differences from the original, each a fix of one of its bugs:
 * - a frontmatter key remembers which placeholder its value names (`date: {{day|…}}` is filled
 *   from `day`, `cacheId: {{cache_key}}` from `cache_key`), and literal values (`Type: Besprechung`)
 *   are kept instead of becoming `""`;
 * - a description may contain one level of single braces (`{{toc|Array von { title, page }}}`);
 *   the original cut it at the first `}` and left a stray brace in the output;
 * - fields are discovered on the template only, never on the input text or context values
 *   (the original substituted `{{text}}` first, so placeholders inside the input became fields).
 */
import {
  JSON_FRONTMATTER_KEYS,
  type FrontmatterEntry,
  type FrontmatterKind,
  type ParsedTemplate,
  type TemplateField,
} from './template-types.js';

/** `{{name}}` or `{{name|description}}`; a description may hold one level of `{…}`. */
export const PLACEHOLDER_SOURCE = String.raw`\{\{([A-Za-z][A-Za-z0-9_]*)(?:\|((?:[^{}]|\{[^{}]*\})+?))?\}\}`;

export const placeholderPattern = (): RegExp => new RegExp(PLACEHOLDER_SOURCE, 'g');

const SYSTEM_PROMPT_MARKER = /^---[ \t]*systemprompt[ \t]*$/im;
const KEY_LINE = /^([^\s:#-][^:]*?)[ \t]*:(.*)$/;
const ARRAY_HINT = /\b(arrays?|json[- ]?(list|liste|array))\b/i;

/** The description asks for a JSON array (`Array von …`, `as a JSON array`); comma lists stay strings. */
export const descriptionExpectsArray = (description: string): boolean =>
  ARRAY_HINT.test(description);

const unquote = (v: string): string => {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) {
    return v.slice(1, -1);
  }
  return v;
};

const classify = (value: string): { kind: FrontmatterKind; name: string | null } => {
  const v = unquote(value.trim());
  if (!v) return { kind: 'empty', name: null };
  const whole = new RegExp(`^${PLACEHOLDER_SOURCE}$`).exec(v);
  if (whole) return { kind: whole[2] !== undefined ? 'field' : 'variable', name: whole[1]! };
  if (placeholderPattern().test(v)) return { kind: 'mixed', name: null };
  return { kind: 'literal', name: null };
};

/** Splits the frontmatter block off the template; null when there is none. */
const splitFrontmatter = (source: string): { lines: string[]; body: string } | null => {
  const lines = source.split('\n');
  if (lines[0]?.trim() !== '---') return null;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '---') {
      return { lines: lines.slice(1, i), body: lines.slice(i + 1).join('\n') };
    }
  }
  return null;
};

const parseFrontmatter = (lines: string[]): FrontmatterEntry[] => {
  const entries: FrontmatterEntry[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const m = KEY_LINE.exec(line);
    if (m) {
      const value = m[2]!.trim();
      const { kind, name } = classify(value);
      entries.push({ key: m[1]!.trim(), kind, value, name, continuation: [] });
    } else if (entries.length) {
      // indented or list lines (a YAML block under the previous key), or a comment
      const last = entries[entries.length - 1]!;
      last.continuation.push(line);
      if (last.kind === 'empty') last.kind = 'literal';
    }
  }
  return entries;
};

/** Parses a template's text. Line endings are normalised to `\n`. */
export const parseTemplate = (text: string): ParsedTemplate => {
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const marker = SYSTEM_PROMPT_MARKER.exec(normalised);
  const source = (marker ? normalised.slice(0, marker.index) : normalised).replace(/^\s+/, '');
  const systemPrompt = marker
    ? normalised.slice(marker.index + marker[0].length).trim() || null
    : null;
  const split = splitFrontmatter(source);
  const frontmatter = split ? parseFrontmatter(split.lines) : null;
  const body = split ? split.body : source;

  // first description of every described placeholder, in source order
  const described = new Map<string, string>();
  const variables: string[] = [];
  for (const m of source.matchAll(placeholderPattern())) {
    const [, name, desc] = m;
    if (desc !== undefined) {
      if (!described.has(name!)) described.set(name!, desc.trim());
    } else if (!variables.includes(name!)) {
      variables.push(name!);
    }
  }

  const fmNames = new Set<string>();
  const order: string[] = [];
  const add = (name: string) => {
    if (described.has(name) && !order.includes(name)) order.push(name);
  };
  for (const e of frontmatter ?? []) {
    for (const m of e.value.matchAll(placeholderPattern())) {
      if (m[2] !== undefined) {
        fmNames.add(m[1]!);
        add(m[1]!);
      }
    }
    // a key described elsewhere (`title:` here, `# {{title|…}}` in the body) is a field too
    if (described.has(e.key)) {
      fmNames.add(e.key);
      add(e.key);
    }
  }
  for (const name of described.keys()) add(name);

  const fields: TemplateField[] = order.map((name) => {
    const description = described.get(name)!;
    return {
      name,
      description,
      frontmatter: fmNames.has(name),
      expectsArray: descriptionExpectsArray(description),
    };
  });
  return { source, systemPrompt, frontmatter, body, fields, variables };
};

/** Whether a frontmatter key or field name is written as JSON (the original's fixed list). */
export const isJsonKey = (...names: Array<string | null | undefined>): boolean =>
  names.some((n) => (n ? JSON_FRONTMATTER_KEYS.has(n) : false));
