/**
 * The template format (original §6): an optional YAML-like frontmatter between `---` lines, a
 * Markdown body, and an optional system prompt after a `--- systemprompt` line.
 *
 * Placeholders: `{{name|description}}` is a field the model fills; `{{name}}` is a context
 * variable (`{{text}}`: the input text). Single-brace `{videoplayer}`/`{slides}` are markers of
 * the session pipeline and are left alone here.
 */

/** One field the model is asked for. */
export interface TemplateField {
  name: string;
  /** The instruction for this field (the text after `|`). */
  description: string;
  /** Appears in the frontmatter (as a value placeholder or as a key). */
  frontmatter: boolean;
  /** The description asks for an array (`array`, `JSON list`): checked in the reply. */
  expectsArray: boolean;
}

/**
 * How a frontmatter line gets its value when the template is filled:
 * - `field`: the value is one `{{name|…}}`: the model's value of `name` (which may differ from the key);
 * - `variable`: the value is one `{{name}}`: context (or model) value of `name`, then of the key;
 * - `mixed`: text with placeholders inside (`https://youtu.be/{{video_id}}`), filled as a string;
 * - `literal`: fixed text (`Type: Besprechung`), unless the context or the model gives the key;
 * - `empty`: no value (`owner:`): context or model value of the key.
 */
export type FrontmatterKind = 'field' | 'variable' | 'mixed' | 'literal' | 'empty';

export interface FrontmatterEntry {
  key: string;
  kind: FrontmatterKind;
  /** The text after the colon, trimmed. */
  value: string;
  /** `field`/`variable`: the placeholder's name. */
  name: string | null;
  /** Indented or list lines that followed the key line (kept for `literal` entries). */
  continuation: string[];
}

export interface ParsedTemplate {
  /** The template text without the system prompt section (line endings normalised). */
  source: string;
  /** The template's own system prompt, or null (the default one is used). */
  systemPrompt: string | null;
  /** Null when the template has no frontmatter block. */
  frontmatter: FrontmatterEntry[] | null;
  /** Everything after the frontmatter block (the whole template when there is none). */
  body: string;
  /** Fields for the model, frontmatter first, each once, in order of first appearance. */
  fields: TemplateField[];
  /** Names of bare `{{name}}` placeholders (context variables), in order. */
  variables: string[];
}

/** Frontmatter keys (and field names) always written as JSON, as the original does. */
export const JSON_FRONTMATTER_KEYS: ReadonlySet<string> = new Set([
  'chapters',
  'toc',
  'confidence',
  'provenance',
  'slides',
  'attachments',
  'speakers',
  'topics',
  'tags',
  'affiliations',
]);
