/**
 * Translate, summarise and reformat a text (original `/transformer/text`): one model call with
 * the original's instructions, none at all when there is nothing to do (same language, no
 * summary, plain text).
 */
import type { ModelGateway } from '../llm/model-gateway.js';
import { JsonReplyError, parseJsonReply } from '../templates/json-repair.js';
import { callRecord, type CallRecord } from './json-call.js';
import type { ModelCall } from './template-transform.js';

export const TARGET_FORMATS = ['TEXT', 'HTML', 'MARKDOWN', 'JSON', 'XML', 'FILENAME'] as const;
export type TargetFormat = (typeof TARGET_FORMATS)[number];

export interface TextTransformInput {
  text: string;
  sourceLanguage: string | null;
  targetLanguage: string;
  summarize?: boolean;
  targetFormat?: TargetFormat;
  context?: Record<string, unknown> | null;
}

export interface TextTransformResult {
  text: string;
  language: string;
  format: string;
  summarized: boolean;
  /** The parsed reply for `target_format: JSON` (null when it is not a JSON object). */
  structured_data: Record<string, unknown> | null;
  calls: CallRecord[];
}

const LANGUAGE_NAMES: Record<string, string> = {
  de: 'German',
  en: 'English',
  fr: 'French',
  es: 'Spanish',
  it: 'Italian',
  pt: 'Portuguese',
  nl: 'Dutch',
  pl: 'Polish',
  ru: 'Russian',
  ja: 'Japanese',
  ko: 'Korean',
  zh: 'Chinese',
  cs: 'Czech',
  da: 'Danish',
  sv: 'Swedish',
  no: 'Norwegian',
  fi: 'Finnish',
  tr: 'Turkish',
  el: 'Greek',
  hu: 'Hungarian',
  ro: 'Romanian',
  sl: 'Slovenian',
  hr: 'Croatian',
  uk: 'Ukrainian',
  ar: 'Arabic',
  la: 'Latin',
};

/** `de` → `German` (unknown codes as given). */
export const languageName = (code: string): string => LANGUAGE_NAMES[code.toLowerCase()] ?? code;

const FORMAT_RULES: Record<TargetFormat, string> = {
  TEXT: '',
  HTML: 'Format the output as HTML with correct tags.',
  MARKDOWN: 'Format the output as Markdown.',
  JSON: 'Format the output as one valid JSON object, nothing outside it.',
  XML: 'Format the output as well-formed XML.',
  FILENAME:
    'Format the output as a valid file name without special characters or umlauts, words separated by spaces, at most 50 characters.',
};

export const transformText = async (
  gateway: ModelGateway,
  input: TextTransformInput,
  call: ModelCall,
): Promise<TextTransformResult> => {
  const format = input.targetFormat ?? 'TEXT';
  const summarized = Boolean(input.summarize);
  const base = { language: input.targetLanguage, format: format.toLowerCase(), summarized };
  const sameLanguage =
    !input.sourceLanguage || input.sourceLanguage === 'auto'
      ? false
      : input.sourceLanguage.toLowerCase() === input.targetLanguage.toLowerCase();
  if (sameLanguage && !summarized && format === 'TEXT') {
    return { ...base, text: input.text, structured_data: null, calls: [] };
  }
  const instructions = [
    summarized ? 'Summarise the text concisely but keep all important information.' : '',
    FORMAT_RULES[format],
    input.context && Object.keys(input.context).length
      ? `Take this context into account: ${JSON.stringify(input.context)}`
      : '',
    `Write the result in ${languageName(input.targetLanguage)} (${input.targetLanguage}), without explanations or metadata.`,
  ].filter(Boolean);
  const prompt = `${instructions.join('\n')}\nThe text to process:\n\n${input.text}`;
  const res = await gateway.chat('chat', {
    messages: [
      {
        role: 'system',
        content: 'You are a text-processing assistant who translates and formats texts perfectly.',
      },
      { role: 'user', content: prompt },
    ],
    temperature: call.temperature ?? null,
    responseFormat: format === 'JSON' ? { type: 'json_object' } : null,
    purpose: summarized ? 'summarization' : 'translation',
    processor: 'TransformerProcessor',
    signal: call.signal,
    provider: call.provider,
    model: call.model,
    useCache: call.useCache,
    usage: call.usage,
  });
  let structured: Record<string, unknown> | null = null;
  if (format === 'JSON') {
    try {
      structured = parseJsonReply(res.text).value;
    } catch (err) {
      if (!(err instanceof JsonReplyError)) throw err;
      call.log?.('warn', `target_format JSON: the reply is not a JSON object (${err.message})`);
    }
  }
  return { ...base, text: res.text.trim(), structured_data: structured, calls: [callRecord(res)] };
};
