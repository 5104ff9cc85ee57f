/**
 * The prompts of a template transformation, in the original's shape (§6.3 step 5): the
 * template's system prompt (or the default one) with `{target_language}` replaced, and a user
 * prompt with `TEXT:`, `CONTEXT:`, `REQUIRED FIELDS:` (a JSON object field → description) and
 * numbered rules. The template body itself is not sent.
 *
 * Fix: `additional_field_descriptions` are part of `REQUIRED FIELDS` (the original merged them
 * into a dictionary the prompt never used).
 */
import type { ResponseFormat } from '../llm/types.js';
import { descriptionExpectsArray } from './template-parser.js';
import type { ParsedTemplate } from './template-types.js';

export const DEFAULT_SYSTEM_PROMPT =
  'You are a precise assistant for text analysis and data extraction. ' +
  'Analyze the text and extract the requested information. ' +
  'Provide all answers in the target language ISO 639-1 code:{target_language}. ' +
  'IMPORTANT: Your response must be a valid JSON object where each key corresponds to a template variable.';

const JSON_REMINDER =
  '\n\nIMPORTANT: Your response must be a valid JSON object where each key corresponds to a template variable.';

/** The marker line the prompt uses before the fields (local test servers read what follows). */
export const REQUIRED_FIELDS_MARKER = 'REQUIRED FIELDS:';

export const buildSystemPrompt = (parsed: ParsedTemplate, targetLanguage: string): string => {
  const base = parsed.systemPrompt ? parsed.systemPrompt + JSON_REMINDER : DEFAULT_SYSTEM_PROMPT;
  return base.split('{target_language}').join(targetLanguage);
};

/** Field → description the model must fill: the template's fields, then the extra ones. */
export const requiredFields = (
  parsed: ParsedTemplate,
  additional: Record<string, string> | null | undefined,
): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const f of parsed.fields) out[f.name] = f.description;
  for (const [name, desc] of Object.entries(additional ?? {})) out[name] = String(desc);
  return out;
};

/** Names whose description asks for a JSON array. */
export const arrayFields = (required: Record<string, string>): Set<string> =>
  new Set(Object.keys(required).filter((k) => descriptionExpectsArray(required[k]!)));

export interface UserPromptInput {
  text: string;
  context: Record<string, unknown>;
  required: Record<string, string>;
  targetLanguage: string;
}

export const buildUserPrompt = (p: UserPromptInput): string => {
  const context = Object.keys(p.context).length
    ? JSON.stringify(p.context, null, 2)
    : 'No additional context.';
  const rules = [
    'Extract all required information from the text',
    'Return a single JSON object where each key matches a field name',
    `Provide all values in language: ${p.targetLanguage}`,
    'Ensure the response is valid JSON',
    'Do not include any text outside the JSON object',
  ];
  const arrays = [...arrayFields(p.required)];
  if (arrays.length) rules.push(`These fields must be JSON arrays: ${arrays.join(', ')}`);
  return (
    'Analyze the following text and extract the information as a JSON object:\n\n' +
    `TEXT:\n${p.text}\n\n` +
    `CONTEXT:\n${context}\n\n` +
    `${REQUIRED_FIELDS_MARKER}\n${JSON.stringify(p.required, null, 2)}\n\n` +
    `INSTRUCTIONS:\n${rules.map((r, i) => `${i + 1}. ${r}`).join('\n')}`
  );
};

/**
 * The `response_format` for the fields: a JSON schema (every field required, arrays where the
 * description asks for one; other fields untyped, the description says what they hold) or plain
 * `json_object`. The gateway sends it only to providers with `json_mode`.
 */
export const fieldsResponseFormat = (
  required: Record<string, string>,
  kind: 'json_schema' | 'json_object',
): ResponseFormat => {
  if (kind === 'json_object') return { type: 'json_object' };
  const arrays = arrayFields(required);
  const properties: Record<string, unknown> = {};
  for (const [name, description] of Object.entries(required)) {
    properties[name] = arrays.has(name) ? { type: 'array', description } : { description };
  }
  return {
    type: 'json_schema',
    name: 'template_fields',
    schema: {
      type: 'object',
      properties,
      required: Object.keys(required),
      additionalProperties: false,
    },
    strict: false,
  };
};
