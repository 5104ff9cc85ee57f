/**
 * Fills a parsed template with the model's values and the request's context (original §6.3
 * step 7), in one pass over the text, so a value that itself contains `{{…}}` is never filled
 * again.
 *
 * - Body: `{{name|…}}` becomes the model's value as plain text (strings as they are, arrays and
 *   objects as JSON), **never quoted** (the original wrote `# "My Title"`); `{{text}}` the input
 *   text; `{{name}}` the context value (JSON for objects and lists), else the model's value, else
 *   it stays (the session pipeline fills some later). `{videoplayer}`/`{slides}` are untouched.
 * - Frontmatter: rebuilt line by line from its entries (see `FrontmatterKind`); strings are
 *   written as double-quoted YAML with newlines turned into spaces, arrays and objects and the
 *   keys in `JSON_FRONTMATTER_KEYS` as JSON, which YAML reads as flow values.
 */
import { isJsonKey, placeholderPattern } from './template-parser.js';
import type { FrontmatterEntry, ParsedTemplate } from './template-types.js';

export type Values = Record<string, unknown>;

const has = (o: Values, k: string): boolean =>
  Object.prototype.hasOwnProperty.call(o, k) && o[k] !== null && o[k] !== undefined;

/** The first of `candidates` ([object, key]) that holds a value, else undefined. */
const pick = (...candidates: Array<[Values, string | null]>): unknown => {
  for (const [o, k] of candidates) if (k && has(o, k)) return o[k];
  return undefined;
};

const isStructured = (v: unknown): boolean => typeof v === 'object' && v !== null;

/** A value written into the Markdown body. */
export const bodyValue = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (isStructured(v)) return JSON.stringify(v);
  return String(v);
};

/** A value written after `key: ` in the frontmatter (always valid YAML). */
export const frontmatterValue = (v: unknown, jsonKey: boolean): string => {
  if (isStructured(v)) return JSON.stringify(v);
  if (jsonKey) return JSON.stringify(v ?? null);
  if (v === null || v === undefined) return '""';
  // JSON string syntax is valid YAML double-quoted syntax (backslashes and quotes escaped)
  return JSON.stringify(String(v).replace(/\r\n?|\n/g, ' '));
};

export interface FillInput {
  values: Values;
  context: Values;
  text: string;
}

/** Fills placeholders inside a string (body, or a frontmatter value with text around them). */
const fillText = (template: string, input: FillInput): string =>
  template.replace(placeholderPattern(), (whole, name: string, desc: string | undefined) => {
    if (desc !== undefined) return bodyValue(input.values[name]);
    if (name === 'text') return input.text;
    const v = pick([input.context, name], [input.values, name]);
    return v === undefined ? whole : bodyValue(v);
  });

const fieldNames = (parsed: ParsedTemplate): Set<string> =>
  new Set(parsed.fields.map((f) => f.name));

const entryLine = (e: FrontmatterEntry, fields: Set<string>, input: FillInput): string[] => {
  const { values, context } = input;
  const json = isJsonKey(e.key, e.name);
  const line = (v: unknown) => [`${e.key}: ${frontmatterValue(v, json)}`];
  switch (e.kind) {
    case 'field':
      return line(pick([values, e.name], [context, e.key], [context, e.name]));
    case 'variable': {
      if (e.name === 'text') return line(input.text);
      const v = fields.has(e.name!)
        ? pick([values, e.name], [context, e.name], [context, e.key])
        : pick([context, e.name], [values, e.name], [context, e.key], [values, e.key]);
      return line(v);
    }
    case 'mixed': {
      const override = pick([context, e.key]);
      const raw = e.value.replace(/^(["'])(.*)\1$/s, '$2');
      return line(override !== undefined ? override : fillText(raw, input));
    }
    case 'literal': {
      const override = pick([context, e.key], [fields.has(e.key) ? values : {}, e.key]);
      if (override !== undefined) return line(override);
      return [`${e.key}: ${e.value}`.trimEnd(), ...e.continuation];
    }
    case 'empty':
      return line(pick([context, e.key], [values, e.key]));
  }
};

/** The filled Markdown document. */
export const fillTemplate = (parsed: ParsedTemplate, input: FillInput): string => {
  const body = fillText(parsed.body, input);
  if (!parsed.frontmatter) return body;
  const fields = fieldNames(parsed);
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of parsed.frontmatter) {
    if (seen.has(e.key)) continue;
    seen.add(e.key);
    lines.push(...entryLine(e, fields, input));
  }
  return `---\n${lines.join('\n')}\n---\n${body}`;
};
