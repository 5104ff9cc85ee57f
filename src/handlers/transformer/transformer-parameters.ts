/**
 * Parameters of the transformer job types (original §3.6, §5.3), validated at enqueue: the
 * schema checks types; `validate*` the rules between fields (exactly one of `text`/`url` and of
 * `template`/`template_content`), that a named template exists, that a selector is valid CSS
 * and that a provider is configured. Nothing is silently dropped (the original lost `text`,
 * `template_content`, `model`, … on the way to its worker).
 */
import Type, { type TSchema } from 'typebox';
import type { SecretaryConfig } from '../../config/defaults.js';
import { SecretaryError } from '../../core/errors.js';
import { checkTemplateName, type TemplateLibrary } from '../../processors/templates/index.js';
import { TARGET_FORMATS } from '../../processors/transformer/index.js';
import { assertSelector } from '../../processors/web/index.js';
import type { ParameterProblem } from '../../worker/registry.js';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const language = nullable(Type.String({ maxLength: 20 }));
const TEXT_MAX = 5_000_000;

const common = {
  context: nullable(Type.Object({}, { additionalProperties: true })),
  use_cache: nullable(Type.Boolean()),
  model: nullable(Type.String({ maxLength: 200 })),
  provider: nullable(Type.String({ maxLength: 100 })),
};

export const templateParameters = Type.Object(
  {
    text: nullable(Type.String({ maxLength: TEXT_MAX })),
    url: nullable(Type.String({ maxLength: 8192 })),
    template: nullable(Type.String({ maxLength: 300 })),
    template_content: nullable(Type.String({ minLength: 1, maxLength: 500_000 })),
    additional_field_descriptions: nullable(
      Type.Record(Type.String(), Type.String({ maxLength: 10_000 })),
    ),
    source_language: language,
    target_language: language,
    container_selector: nullable(Type.String({ maxLength: 1000 })),
    ...common,
  },
  { additionalProperties: true },
);

export const textParameters = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: TEXT_MAX }),
    source_language: language,
    target_language: language,
    summarize: nullable(Type.Boolean()),
    target_format: nullable(Type.String({ maxLength: 20 })),
    ...common,
  },
  { additionalProperties: true },
);

const part = Type.Object(
  { type: Type.Literal('text'), text: Type.String() },
  { additionalProperties: true },
);

export const chatParameters = Type.Object(
  {
    messages: Type.Array(
      Type.Object(
        {
          role: Type.Union([
            Type.Literal('system'),
            Type.Literal('user'),
            Type.Literal('assistant'),
          ]),
          content: Type.Union([
            Type.String({ maxLength: TEXT_MAX }),
            Type.Array(part, { minItems: 1 }),
          ]),
        },
        { additionalProperties: true },
      ),
      { minItems: 1, maxItems: 500 },
    ),
    response_format: nullable(Type.Union([Type.Literal('text'), Type.Literal('json_object')])),
    schema_json: nullable(Type.Object({}, { additionalProperties: true })),
    strict: nullable(Type.Boolean()),
    temperature: nullable(Type.Number({ minimum: 0, maximum: 2 })),
    max_tokens: nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    timeout_ms: nullable(Type.Integer({ minimum: 1000, maximum: 3_600_000 })),
    ...common,
  },
  { additionalProperties: true },
);

const given = (p: Record<string, unknown>, k: string): boolean =>
  typeof p[k] === 'string' && (p[k] as string).length > 0;

const providerProblem = (
  config: SecretaryConfig,
  p: Record<string, unknown>,
): ParameterProblem[] =>
  given(p, 'provider') && !(String(p.provider) in config.llm.providers)
    ? [
        {
          path: '/provider',
          problem: `unknown provider; configured: ${Object.keys(config.llm.providers).join(', ')}`,
        },
      ]
    : [];

/** A `SecretaryError`'s `{path, problem}` details, or its message at `path`. */
const problemsOf = (err: unknown, path: string): ParameterProblem[] => {
  if (err instanceof SecretaryError) {
    const d = (err.details as { details?: ParameterProblem[] } | null)?.details;
    return Array.isArray(d) ? d : [{ path, problem: err.message }];
  }
  return [{ path, problem: err instanceof Error ? err.message : String(err) }];
};

export const validateTemplateParameters =
  (config: SecretaryConfig, templates: TemplateLibrary) =>
  (p: Record<string, unknown>): ParameterProblem[] => {
    const problems: ParameterProblem[] = [];
    if (given(p, 'text') === given(p, 'url')) {
      problems.push({ path: '/text', problem: 'exactly one of text and url is required' });
    }
    if (given(p, 'url') && !/^https?:\/\//i.test(String(p.url))) {
      problems.push({ path: '/url', problem: 'must be an http(s) URL' });
    }
    if (given(p, 'template') === given(p, 'template_content')) {
      problems.push({
        path: '/template',
        problem: 'exactly one of template and template_content is required',
      });
    } else if (given(p, 'template')) {
      try {
        checkTemplateName(String(p.template));
        checkTemplateExists(templates, p);
      } catch (err) {
        problems.push(...problemsOf(err, '/template'));
      }
    }
    if (given(p, 'container_selector')) {
      if (!given(p, 'url'))
        problems.push({ path: '/container_selector', problem: 'only with url' });
      try {
        assertSelector(String(p.container_selector));
      } catch (err) {
        problems.push({
          path: '/container_selector',
          problem: `not a valid CSS selector (${err instanceof Error ? err.message : String(err)})`,
        });
      }
    }
    for (const name of Object.keys((p.additional_field_descriptions ?? {}) as object)) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
        problems.push({
          path: `/additional_field_descriptions/${name}`,
          problem: 'field names are letters, digits and _',
        });
      }
    }
    problems.push(...providerProblem(config, p));
    return problems;
  };

/** Throws `TEMPLATE_NOT_FOUND` (with close names): the ingress answers it as a 404 before `validate`. */
export const checkTemplateExists = (
  templates: TemplateLibrary,
  p: Record<string, unknown>,
): void => {
  if (given(p, 'template') && !given(p, 'template_content')) {
    // the job's target language defaults to de, so the lookup does too
    templates.resolve(
      String(p.template),
      typeof p.target_language === 'string' && p.target_language ? p.target_language : 'de',
    );
  }
};

export const validateTextParameters =
  (config: SecretaryConfig) =>
  (p: Record<string, unknown>): ParameterProblem[] => {
    const problems = providerProblem(config, p);
    const f = typeof p.target_format === 'string' ? p.target_format.toUpperCase() : null;
    if (f && !(TARGET_FORMATS as readonly string[]).includes(f)) {
      problems.push({ path: '/target_format', problem: `one of ${TARGET_FORMATS.join(', ')}` });
    }
    return problems;
  };

export const validateChatParameters =
  (config: SecretaryConfig) =>
  (p: Record<string, unknown>): ParameterProblem[] => {
    const problems = providerProblem(config, p);
    if (p.schema_id !== undefined && p.schema_id !== null && p.schema_id !== '') {
      problems.push({
        path: '/schema_id',
        problem: 'server-side schemas are not supported; send the schema as schema_json',
      });
    }
    if (p.stream === true || p.stream === 'true') {
      problems.push({ path: '/stream', problem: 'streaming is not supported' });
    }
    return problems;
  };
