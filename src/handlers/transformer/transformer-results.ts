/**
 * What transformer jobs store as `results` and send as `completed` data: flat `text`,
 * `structured_data` (the model's JSON, as the real client reads it), `language`, `format`,
 * `markdown_content`; the original's response envelope under `envelope` (not under
 * `structured_data`, which the original overloaded with it).
 */
import type { Job, LlmInfo } from '../../core/job.js';
import type { CallRecord } from '../../processors/transformer/index.js';

export interface TransformOutcome {
  text: string;
  structured_data: Record<string, unknown> | null;
  language: string;
  format: string;
  calls: CallRecord[];
  extra?: Record<string, unknown>;
}

const cut = (v: unknown): unknown =>
  typeof v === 'string' && v.length > 100 ? `${v.slice(0, 100)}...` : v;

/** The request echo of the envelope (long texts cut to 100 characters, as the original). */
const echo = (params: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(params)
      .filter(([k]) => !['messages', 'callback_token'].includes(k))
      .map(([k, v]) => [k, cut(v)]),
  );

export const buildTransformResults = (
  job: Job,
  processor: string,
  started: string,
  out: TransformOutcome,
  llmInfo: LlmInfo | null,
): Record<string, unknown> => {
  const fromCache = out.calls.length > 0 && out.calls.every((c) => c.fromCache);
  const completed = new Date();
  const data = {
    text: out.text,
    language: out.language,
    format: out.format,
    structured_data: out.structured_data,
  };
  return {
    ...data,
    markdown_content: out.text,
    is_from_cache: fromCache,
    model_calls: out.calls.length,
    ...out.extra,
    envelope: {
      status: 'success',
      request: { processor, timestamp: job.created_at, parameters: echo(job.parameters) },
      process: {
        id: job.job_id,
        main_processor: 'TransformerProcessor',
        started,
        completed: completed.toISOString(),
        duration_ms: completed.getTime() - Date.parse(started),
        is_from_cache: fromCache,
        llm_info: llmInfo ?? {
          requests: [],
          requests_count: 0,
          total_tokens: 0,
          total_duration: 0,
          total_cost: 0,
        },
      },
      error: null,
      data: { ...data, summarized: false },
    },
  };
};

/** The `completed` callback's data: what the real client reads (`data.text`, `data.structured_data`). */
export const transformCallbackData = (job: Job): Record<string, unknown> => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  return {
    text: r.text ?? '',
    structured_data: r.structured_data ?? null,
    language: r.language ?? null,
    format: r.format ?? 'text',
  };
};
