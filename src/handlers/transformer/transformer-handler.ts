/**
 * The transformer job types:
 * - `transformer` (also registered as `transformer_template`, the original's name): text or a
 *   web page + a template → filled Markdown and the model's JSON; selector extraction for list
 *   pages (`container_selector`);
 * - `transformer_text`: translate, summarise, reformat;
 * - `transformer_chat`: a chat completion, optionally JSON checked against a schema.
 * Every model call goes through the gateway with the job's signal and usage.
 */
import type { Job } from '../../core/job.js';
import { normaliseLanguage } from '../../processors/llm/index.js';
import type { TargetFormat } from '../../processors/transformer/index.js';
import type { HandlerContext, JobTypeDefinition } from '../../worker/registry.js';
import {
  modelCallOf,
  teeUsage,
  transformerFor,
  type TransformerDeps,
} from '../shared/transformer.js';
import {
  chatParameters,
  templateParameters,
  textParameters,
  validateChatParameters,
  validateTemplateParameters,
  validateTextParameters,
} from './transformer-parameters.js';
import {
  buildTransformResults,
  transformCallbackData,
  type TransformOutcome,
} from './transformer-results.js';

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const obj = <T = unknown>(v: unknown): Record<string, T> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, T>) : null;
const lang = (v: unknown, fallback: string): string => normaliseLanguage(str(v)) ?? fallback;

/**
 * A transformer job type: `run` does the work (progress and the model calls, with `usage` as
 * the calls' usage recorder); every type stores its outcome and calls back the same way.
 */
const transformerType = (
  def: Pick<JobTypeDefinition, 'type' | 'description' | 'parameters' | 'validate'>,
  run: (
    p: Record<string, unknown>,
    ctx: HandlerContext,
    usage: ReturnType<typeof teeUsage>,
  ) => Promise<TransformOutcome>,
): JobTypeDefinition => ({
  ...def,
  handler: async (job, ctx) => {
    const started = new Date().toISOString();
    const usage = teeUsage(ctx.usage);
    const out = await run(job.parameters, ctx, usage);
    ctx.progress('postprocessing', 95, 'Ergebnis wird gespeichert');
    return buildTransformResults(job, 'transformer', started, out, usage.info());
  },
  callbackData: (job: Job) => transformCallbackData(job),
});

export const TEMPLATE_JOB_TYPES = ['transformer', 'transformer_template'] as const;

export const templateJobType = (deps: TransformerDeps, type: string): JobTypeDefinition => {
  const transformer = transformerFor(deps);
  return transformerType(
    {
      type,
      description:
        'Template transformation: text or a web page (url) + a template (name or template_content) → filled Markdown and structured_data; container_selector scrapes list pages.',
      parameters: templateParameters,
      validate: validateTemplateParameters(deps.config, transformer.templates),
    },
    async (p, ctx, usage) => {
      ctx.progress('initializing', 5, 'Template wird geladen');
      const targetLanguage = lang(p.target_language, 'de');
      ctx.progress(
        'processing',
        str(p.url) ? 20 : 50,
        str(p.url) ? 'Webseite wird gelesen' : 'Template wird ausgefüllt',
      );
      const r = await transformer.template(
        {
          text: str(p.text),
          url: str(p.url),
          template: str(p.template),
          templateContent: str(p.template_content),
          context: obj(p.context),
          additionalFields: obj<string>(p.additional_field_descriptions),
          sourceLanguage: str(p.source_language),
          targetLanguage,
          containerSelector: str(p.container_selector),
        },
        modelCallOf(ctx, usage, p, true),
      );
      return {
        ...r,
        extra: {
          template: r.template,
          fields: r.fields,
          warnings: r.warnings,
          repairs: r.repairs,
          ...(r.page ? { page: r.page } : {}),
        },
      };
    },
  );
};

export const textJobType = (deps: TransformerDeps): JobTypeDefinition => {
  const transformer = transformerFor(deps);
  return transformerType(
    {
      type: 'transformer_text',
      description:
        'Translate, summarise or reformat a text (target_format TEXT, HTML, MARKDOWN, JSON, XML, FILENAME).',
      parameters: textParameters,
      validate: validateTextParameters(deps.config),
    },
    async (p, ctx, usage) => {
      ctx.progress('processing', 20, 'Text wird verarbeitet');
      const r = await transformer.text(
        {
          text: String(p.text),
          sourceLanguage: str(p.source_language),
          targetLanguage: lang(p.target_language, 'de'),
          summarize: p.summarize === true,
          targetFormat: (str(p.target_format)?.toUpperCase() ?? 'TEXT') as TargetFormat,
          context: obj(p.context),
        },
        modelCallOf(ctx, usage, p, true),
      );
      return { ...r, extra: { summarized: r.summarized } };
    },
  );
};

export const chatJobType = (deps: TransformerDeps): JobTypeDefinition => {
  const transformer = transformerFor(deps);
  return transformerType(
    {
      type: 'transformer_chat',
      description:
        'Chat completion with the given messages; response_format json_object, optionally checked against schema_json.',
      parameters: chatParameters,
      validate: validateChatParameters(deps.config),
    },
    async (p, ctx, usage) => {
      ctx.progress('processing', 20, 'Modell wird gefragt');
      const messages = (
        p.messages as Array<{ role: 'system' | 'user' | 'assistant'; content: unknown }>
      ).map((m) => ({
        role: m.role,
        content:
          typeof m.content === 'string'
            ? m.content
            : (m.content as Array<{ text: string }>).map((x) => ({
                type: 'text' as const,
                text: x.text,
              })),
      }));
      const r = await transformer.chat(
        {
          messages,
          responseFormat:
            p.response_format === 'json_object' || obj(p.schema_json) ? 'json_object' : 'text',
          schema: obj(p.schema_json),
          strict: typeof p.strict === 'boolean' ? p.strict : null,
          maxTokens: typeof p.max_tokens === 'number' ? p.max_tokens : null,
          timeoutMs: typeof p.timeout_ms === 'number' ? p.timeout_ms : null,
        },
        // the original's chat default temperature is 0.7
        {
          ...modelCallOf(ctx, usage, p, true),
          temperature: typeof p.temperature === 'number' ? p.temperature : 0.7,
        },
      );
      return { ...r, extra: { warnings: r.warnings } };
    },
  );
};

/** All transformer job types of a process (one transformer and template cache shared by them). */
export const transformerJobTypes = (deps: TransformerDeps): JobTypeDefinition[] => [
  ...TEMPLATE_JOB_TYPES.map((t) => templateJobType(deps, t)),
  textJobType(deps),
  chatJobType(deps),
];
