/**
 * What `audio`, `video` and `youtube` jobs store as results (the original's names:
 * `markdown_content`, `transcription`, `video_transcript`, `structured_data` envelope) and what
 * their `completed` callback carries (client-contract §3.4: the receiver reads
 * `data.transcription.text`; video also `data.result`).
 */
import type { Job } from '../../core/job.js';
import type { CachedTranscript } from './media-cache.js';
import type { MediaKind } from './media-parameters.js';

export const MAIN_PROCESSOR: Record<MediaKind, string> = {
  audio: 'AudioProcessor',
  video: 'VideoProcessor',
  youtube: 'YoutubeProcessor',
};

export interface MediaSource {
  name: string;
  /** `upload`, `file`, `url` or `youtube`. */
  kind: string;
  url: string | null;
  size_bytes: number;
  youtube?: { video_id: string; title: string | null; uploader: string | null } | null;
}

export interface MediaResultMeta {
  kind: MediaKind;
  source: MediaSource;
  sourceLanguage: string | null;
  targetLanguage: string | null;
  template: string | null;
  cacheKey: string;
  fromCache: boolean;
}

export const buildMediaResults = (
  job: Job,
  t: CachedTranscript,
  m: MediaResultMeta,
): Record<string, unknown> => {
  const transcription = { text: t.text, segments: t.segments, language: t.language };
  const tpl = t.template_result;
  const markdown = tpl ? tpl.text : t.text;
  const metadata = {
    file_name: m.source.name,
    source: m.source.kind,
    url: m.source.url,
    size_bytes: m.source.size_bytes,
    format: t.format,
    has_video: t.has_video,
    duration_sec: t.duration_sec,
    segment_count: t.segment_count,
    language: t.language,
    provider: t.provider,
    model: t.model,
    ...(m.source.youtube ? { youtube: m.source.youtube } : {}),
  };
  const data: Record<string, unknown> = {
    transcription,
    ...(m.kind !== 'audio' ? { video_transcript: t.text } : {}),
    ...(tpl ? { output_text: tpl.text, transformed_text: tpl.text, template_result: tpl } : {}),
    metadata,
  };
  return {
    markdown_content: markdown,
    transcription,
    ...(m.kind !== 'audio' ? { video_transcript: t.text } : {}),
    ...(tpl ? { transformed_text: tpl.text, template_result: tpl } : {}),
    metadata,
    is_from_cache: m.fromCache,
    cache_key: m.cacheKey,
    structured_data: {
      status: 'success',
      request: {
        processor: m.kind,
        timestamp: new Date().toISOString(),
        parameters: {
          source_language: m.sourceLanguage ?? 'auto',
          target_language: m.targetLanguage,
          template: m.template,
          file_name: m.source.name,
        },
      },
      process: {
        id: job.job_id,
        main_processor: MAIN_PROCESSOR[m.kind],
        is_from_cache: m.fromCache,
        cache_key: m.cacheKey,
        llm_info: job.llm_info ?? {
          requests: [],
          requests_count: 0,
          total_tokens: 0,
          total_duration: 0,
        },
      },
      error: null,
      data,
    },
  };
};

/** `completed` webhook/SSE data: `{transcription:{text, segments, language}}`, video and youtube also `result`. */
export const mediaCallbackData =
  (kind: MediaKind) =>
  (job: Job): Record<string, unknown> => {
    const r = (job.results ?? {}) as Record<string, unknown>;
    const t = (r.transcription ?? {}) as Record<string, unknown>;
    const transcription = {
      text: typeof t.text === 'string' ? t.text : '',
      segments: Array.isArray(t.segments) ? t.segments : [],
      language: typeof t.language === 'string' ? t.language : null,
    };
    const template = r.template_result
      ? { transformed_text: r.transformed_text ?? null, template_result: r.template_result }
      : {};
    if (kind === 'audio') return { transcription, ...template };
    const meta = (r.metadata ?? {}) as Record<string, unknown>;
    return {
      transcription,
      result: {
        text: transcription.text,
        markdown: typeof r.markdown_content === 'string' ? r.markdown_content : transcription.text,
        language: transcription.language,
        duration_sec: meta.duration_sec ?? null,
        video_transcript: transcription.text,
        ...(meta.youtube ? { youtube: meta.youtube } : {}),
      },
      ...template,
    };
  };
