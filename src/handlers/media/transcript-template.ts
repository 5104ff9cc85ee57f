/**
 * Template transformation of a transcript (the `template` parameter of media jobs), through the
 * template engine (`src/processors/templates/`, `src/processors/transformer/`). The template is
 * resolved before any audio is transcribed, so an unknown name (`TEMPLATE_NOT_FOUND`, with close
 * names) or a bad one (`INVALID_PARAMETERS`) fails the job before anything is paid for; the
 * returned `apply` fills it from the transcript with the `chat` use case's model.
 */
import { createHash } from 'node:crypto';
import type { SecretaryConfig } from '../../config/defaults.js';
import type { ModelGateway, UsageSink } from '../../processors/llm/index.js';
import { transformerFor } from '../shared/transformer.js';

export interface TranscriptTemplateInput {
  /** The joined transcript. */
  transcript: string;
  sourceLanguage: string | null;
  /** The job's `context` plus `source` (the file name) when the job gave none. */
  context: Record<string, unknown>;
  signal: AbortSignal;
  usage: UsageSink;
  useCache: boolean;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** What the template step adds to a media job's results (`template_result`, as pdf jobs have it). */
export interface TranscriptTemplateOutput {
  template: string | null;
  /** The filled template (becomes `markdown_content` and `transformed_text`). */
  text: string;
  structured_data: Record<string, unknown>;
  language: string;
  fields: string[];
  warnings: string[];
}

export interface TranscriptTemplate {
  /** The template's file name (without `.md`). */
  name: string | null;
  /** SHA-256 of the template text: part of the transcript cache key, so an edited template is not answered from the cache. */
  digest: string;
  apply(input: TranscriptTemplateInput): Promise<TranscriptTemplateOutput>;
}

export interface TemplateDeps {
  config: SecretaryConfig;
  models: ModelGateway;
}

/**
 * Resolves `template` (a name; `<Name>_<lang>.md` is tried first for the target language) and
 * returns it with the function that applies it to the transcript.
 */
export const prepareTranscriptTemplate = (
  template: string,
  targetLanguage: string,
  deps: TemplateDeps,
): TranscriptTemplate => {
  const transformer = transformerFor(deps);
  const loaded = transformer.loadTemplate({ template, targetLanguage });
  const apply = async (input: TranscriptTemplateInput): Promise<TranscriptTemplateOutput> => {
    const r = await transformer.template(
      {
        text: input.transcript,
        templateContent: loaded.content,
        context: input.context,
        sourceLanguage: input.sourceLanguage,
        targetLanguage,
      },
      { signal: input.signal, usage: input.usage, useCache: input.useCache, log: input.log },
    );
    return {
      template: loaded.name,
      text: r.text,
      structured_data: r.structured_data,
      language: r.language,
      fields: r.fields,
      warnings: r.warnings,
    };
  };
  return {
    name: loaded.name,
    digest: createHash('sha256').update(loaded.content).digest('hex'),
    apply,
  };
};
