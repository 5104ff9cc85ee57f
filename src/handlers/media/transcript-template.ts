/**
 * INTEGRATION POINT — template transformation of a transcript (`template` parameter).
 *
 * The template engine (`src/processors/templates/` + `src/processors/transformer/`) is being
 * built in parallel. Until it is on main, a media job that names a template fails *before*
 * any audio is transcribed (nothing is paid for) with `TEMPLATE_NOT_FOUND` and a message that
 * says so. When the engine lands, `prepareTranscriptTemplate` resolves the template (fail fast)
 * and the returned function fills it from the transcript; nothing else in the media handler
 * changes.
 */
import type { SecretaryConfig } from '../../config/defaults.js';
import { UnrecoverableError } from '../../core/errors.js';
import type { ModelGateway, UsageSink } from '../../processors/llm/index.js';

export interface TranscriptTemplateInput {
  /** The joined transcript. */
  transcript: string;
  sourceLanguage: string | null;
  targetLanguage: string | null;
  /** The job's `context` (the original passed it as `source_info`). */
  context: Record<string, unknown>;
  signal: AbortSignal;
  usage: UsageSink;
  useCache: boolean;
}

export interface TranscriptTemplateOutput {
  /** The filled template (becomes `markdown_content`). */
  markdown: string;
  /** The template's fields, when the engine returns them. */
  structured: Record<string, unknown> | null;
}

export type TranscriptTemplate = (input: TranscriptTemplateInput) => Promise<TranscriptTemplateOutput>;

export interface TemplateDeps {
  config: SecretaryConfig;
  models: ModelGateway;
}

/**
 * Resolves `template` once, before the transcription starts, and returns the function that
 * applies it to the transcript. Throws `TEMPLATE_NOT_FOUND` / `TEMPLATE_ERROR` when it cannot.
 */
export const prepareTranscriptTemplate = async (template: string, deps: TemplateDeps): Promise<TranscriptTemplate> => {
  void deps;
  throw new UnrecoverableError(
    `template transformations are not available in this build yet, so template ${JSON.stringify(template)} cannot be applied; send the request without \`template\` to get the plain transcript`,
    'TEMPLATE_NOT_FOUND',
    { template },
  );
};
