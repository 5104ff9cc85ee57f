/**
 * Text + template → filled Markdown and the model's JSON (original §6.3): the fields go to the
 * model in the original's prompt shape, the reply is repaired or sampled once more, checked
 * field by field, and filled into the template. A reply that is not JSON after the retry fails
 * with `TEMPLATE_TRANSFORMATION_ERROR` (the original filled every field with an error string
 * and reported success).
 */
import { UnrecoverableError } from '../../core/errors.js';
import type { ModelGateway } from '../llm/model-gateway.js';
import type { UsageSink } from '../llm/types.js';
import { checkFields, describeProblems, withMissingAsNull } from '../templates/field-check.js';
import { JsonReplyError } from '../templates/json-repair.js';
import { fillTemplate } from '../templates/template-fill.js';
import type { LoadedTemplate } from '../templates/template-library.js';
import {
  buildSystemPrompt,
  buildUserPrompt,
  fieldsResponseFormat,
  requiredFields,
} from '../templates/template-prompt.js';
import { callForJson, type CallRecord } from './json-call.js';

/** What every model call of a transformation takes (the handler fills it from the job). */
export interface ModelCall {
  signal?: AbortSignal;
  provider?: string | null;
  model?: string | null;
  useCache?: boolean;
  usage?: UsageSink | null;
  /** Sampling temperature of the first call; the processor's default when absent. */
  temperature?: number | null;
  /** Progress notes for the job log. */
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface TemplateTransformInput {
  template: LoadedTemplate;
  text: string;
  context?: Record<string, unknown> | null;
  additionalFields?: Record<string, string> | null;
  targetLanguage: string;
}

export interface TemplateTransformResult {
  /** The filled Markdown. */
  text: string;
  /** The model's JSON object (field → value), every requested field present. */
  structured_data: Record<string, unknown>;
  language: string;
  format: 'text';
  /** The fields asked for, in prompt order. */
  fields: string[];
  repairs: string[];
  /** Field problems left after the retry (missing fields were set to null). */
  warnings: string[];
  calls: CallRecord[];
}

export interface TemplateTransformOptions {
  /** Default temperature (config `llm.temperature`). */
  temperature: number;
  responseFormat: 'json_schema' | 'json_object';
}

export const transformWithTemplate = async (
  gateway: ModelGateway,
  input: TemplateTransformInput,
  call: ModelCall,
  opts: TemplateTransformOptions,
): Promise<TemplateTransformResult> => {
  const parsed = input.template.parsed;
  const context = input.context ?? {};
  const required = requiredFields(parsed, input.additionalFields);
  const fields = Object.keys(required);
  const base = { language: input.targetLanguage, format: 'text' as const, fields };
  if (fields.length === 0) {
    // nothing for the model: the template is filled with the context and the text alone
    return {
      ...base,
      text: fillTemplate(parsed, { values: {}, context, text: input.text }),
      structured_data: {},
      repairs: [],
      warnings: [],
      calls: [],
    };
  }
  const messages = [
    { role: 'system' as const, content: buildSystemPrompt(parsed, input.targetLanguage) },
    {
      role: 'user' as const,
      content: buildUserPrompt({
        text: input.text,
        context,
        required,
        targetLanguage: input.targetLanguage,
      }),
    },
  ];
  let result;
  try {
    result = await callForJson(
      gateway,
      {
        messages,
        temperature: call.temperature ?? opts.temperature,
        responseFormat: fieldsResponseFormat(required, opts.responseFormat),
        purpose: 'template_transform',
        processor: 'TransformerProcessor',
        signal: call.signal,
        provider: call.provider,
        model: call.model,
        useCache: call.useCache,
        usage: call.usage,
      },
      (value) => checkFields(value, required),
      (why) => call.log?.('warn', `model reply unusable (${why}); asking once more`),
    );
  } catch (err) {
    if (!(err instanceof JsonReplyError)) throw err;
    throw new UnrecoverableError(
      `the model's reply could not be read as the template's JSON object after one retry: ${err.message}. Try another model (parameter model) or a template with fewer fields.`,
      'TEMPLATE_TRANSFORMATION_ERROR',
      { template: input.template.name, reply_start: err.snippet, fields },
    );
  }
  const values = withMissingAsNull(result.value, required);
  const warnings = result.problems.length ? [describeProblems(result.problems)] : [];
  if (result.repairs.length)
    call.log?.('info', `model reply repaired: ${result.repairs.join(', ')}`);
  if (warnings.length) call.log?.('warn', `fields after the retry: ${warnings[0]}`);
  return {
    ...base,
    text: fillTemplate(parsed, { values, context, text: input.text }),
    structured_data: values,
    repairs: result.repairs,
    warnings,
    calls: result.calls,
  };
};
