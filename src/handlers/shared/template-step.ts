/**
 * The template step of extraction jobs (`pdf`, `imageocr`): when the job names a `template`
 * (or gives `template_content`), the extracted text is transformed after extraction and the
 * result is added to `results`:
 * - `template_result: {template, text, structured_data, language, fields, warnings}`;
 * - `transformed_text`: the filled Markdown;
 * - `cache_key` gains `_template_<md5>` and `_context_<md5>` (the original's suffixes), so two
 *   runs with different templates never report the same key.
 * `extracted_text` stays the extraction. The original's PDF path threw the template result away
 * (while paying for the call); a failure here fails the job with the transformer's code (the
 * extraction is cached, so a retry costs only the model call).
 */
import { createHash } from 'node:crypto';
import type { SecretaryConfig } from '../../config/defaults.js';
import { UnrecoverableError } from '../../core/errors.js';
import type { Job } from '../../core/job.js';
import type { ModelGateway } from '../../processors/llm/index.js';
import { normaliseLanguage } from '../../processors/llm/index.js';
import type { HandlerContext } from '../../worker/registry.js';
import { modelCallOf, transformerFor } from './transformer.js';

export interface TemplateStepDeps {
  config: SecretaryConfig;
  models: ModelGateway | null;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);

/** Whether the job asks for a template step. */
export const wantsTemplate = (p: Record<string, unknown>): boolean =>
  Boolean(str(p.template) || str(p.template_content));

/** `results` plus the template result (unchanged when the job names no template). */
export const withTemplateStep = async (
  deps: TemplateStepDeps,
  job: Job,
  ctx: HandlerContext,
  results: Record<string, unknown>,
): Promise<Record<string, unknown>> => {
  const p = job.parameters;
  if (!wantsTemplate(p)) return results;
  if (!deps.models) {
    throw new UnrecoverableError(
      'template needs a model provider, and this worker has none',
      'LLM_NOT_CONFIGURED',
    );
  }
  const transformer = transformerFor({ config: deps.config, models: deps.models });
  const context =
    typeof p.context === 'object' && p.context !== null
      ? (p.context as Record<string, unknown>)
      : {};
  const targetLanguage = normaliseLanguage(str(p.target_language)) ?? 'de';
  ctx.progress('postprocessing', 97, 'Template wird angewendet');
  const template = transformer.loadTemplate({
    template: str(p.template),
    templateContent: str(p.template_content),
    targetLanguage,
  });
  const r = await transformer.template(
    {
      text: String(results.extracted_text ?? ''),
      templateContent: template.content,
      context,
      sourceLanguage: str(p.source_language),
      targetLanguage,
    },
    modelCallOf(ctx, ctx.usage, p, true),
  );
  const suffix = `_template_${md5(template.content)}_context_${md5(JSON.stringify(context))}`;
  const cacheKey =
    typeof results.cache_key === 'string' ? `${results.cache_key}${suffix}` : results.cache_key;
  const sd = results.structured_data as { process?: Record<string, unknown> } | undefined;
  return {
    ...results,
    cache_key: cacheKey,
    ...(sd?.process
      ? { structured_data: { ...sd, process: { ...sd.process, cache_key: cacheKey } } }
      : {}),
    transformed_text: r.text,
    template_result: {
      template: template.name,
      text: r.text,
      structured_data: r.structured_data,
      language: r.language,
      fields: r.fields,
      warnings: r.warnings,
    },
  };
};

/** Wraps a job type's `completed` data: adds `transformed_text` and `template_result` when present. */
export const withTemplateCallbackData =
  <A extends unknown[]>(base: (job: Job, ...rest: A) => Record<string, unknown>) =>
  (job: Job, ...rest: A): Record<string, unknown> => {
    const data = base(job, ...rest);
    const r = (job.results ?? {}) as Record<string, unknown>;
    if (r.template_result) {
      data.transformed_text = r.transformed_text ?? null;
      data.template_result = r.template_result;
    }
    return data;
  };
