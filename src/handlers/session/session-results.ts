/**
 * What a `session` job stores as results (the original's JobResults names, §1.7), what its
 * `completed` callback carries (client-contract §2.4: `data.output.{markdown_content,
 * markdown_file, archive_filename, …}`), and the synchronous envelope of
 * `POST /api/session/process` (`data = {input, output}`).
 *
 * Paths: `markdown_file`, `target_dir`, `asset_dir` are `sessions/<relative to the sessions
 * base dir>` (the original's form with its default base dir); gallery paths (`attachments`,
 * slide `image_url`) are relative to the base dir, as the Markdown embeds them. The archive is
 * a file (`archive_path`, relative to the cache root) served by
 * `GET /api/jobs/{id}/download-archive`; results never hold it as base64.
 */
import type { Job } from '../../core/job.js';
import type { StepWarning } from '../../processors/session/index.js';
import type { SessionCacheRecord } from './session-cache.js';

export const archiveUrlOf = (jobId: string): string => `/api/jobs/${jobId}/download-archive`;

export const buildSessionResults = (
  job: Job,
  r: SessionCacheRecord,
  meta: { fromCache: boolean; warnings: StepWarning[]; attachmentsMethod: string | null },
): Record<string, unknown> => {
  const o = r.output;
  const archiveUrl = o.archive_path ? archiveUrlOf(job.job_id) : null;
  return {
    input: r.input,
    markdown_file: `sessions/${o.markdown_file}`,
    markdown_content: o.markdown_content,
    assets: o.attachments,
    attachments: o.attachments,
    web_text: o.web_text,
    page_title: o.page_title,
    video_transcript: o.video_transcript,
    page_texts: o.page_texts,
    context: o.context,
    attachments_url: r.input.attachments_url,
    structured_data: o.structured_data,
    target_dir: `sessions/${o.target_dir}`,
    asset_dir: `sessions/${o.asset_dir}`,
    archive_path: o.archive_path,
    archive_filename: o.archive_filename,
    archive_url: archiveUrl,
    archive_entries: o.archive_entries,
    template: o.template,
    cache_key: r.cache_key,
    is_from_cache: meta.fromCache,
    warnings: meta.warnings,
    steps: o.steps,
    envelope: {
      status: 'success',
      request: {
        processor: 'session',
        timestamp: new Date().toISOString(),
        parameters: {
          event: r.input.event,
          session: r.input.session,
          url: r.input.url,
          track: r.input.track,
        },
      },
      process: {
        id: job.job_id,
        main_processor: 'SessionProcessor',
        sub_processors: [
          ...(o.attachments.length || r.input.attachments_url ? ['PDFProcessor'] : []),
          ...(r.input.video_url && !r.input.video_transcript ? ['VideoProcessor'] : []),
          'TransformerProcessor',
        ],
        is_from_cache: meta.fromCache,
        cache_key: r.cache_key,
        attachments_method: meta.attachmentsMethod,
        produced_by_job: r.job_id,
      },
    },
  };
};

const pick = (r: Record<string, unknown>, keys: string[]): Record<string, unknown> =>
  Object.fromEntries(keys.map((k) => [k, r[k] ?? null]));

const OUTPUT_KEYS = [
  'markdown_content',
  'markdown_file',
  'archive_filename',
  'structured_data',
  'target_dir',
  'asset_dir',
  'attachments',
  'video_transcript',
];

/** `completed` webhook/SSE data: `{input, output: {…}, warnings, is_from_cache, cache_key}`; the archive by URL only. */
export const sessionCallbackData = (
  job: Job,
  url: (path: string) => string,
): Record<string, unknown> => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  return {
    input: r.input ?? null,
    output: {
      ...pick(r, OUTPUT_KEYS),
      archive_data: null,
      archive_url: typeof r.archive_url === 'string' ? url(r.archive_url) : null,
      page_count: Array.isArray(r.page_texts) ? r.page_texts.length : 0,
    },
    warnings: r.warnings ?? [],
    is_from_cache: r.is_from_cache ?? false,
    cache_key: r.cache_key ?? null,
  };
};

/**
 * The synchronous answer (original §3.7): the envelope with `data = {input, output}`; `output`
 * has every field of the original's SessionOutput. `archiveData` (base64) is given by the route
 * only for small archives.
 */
export const sessionEnvelope = (
  job: Job,
  url: (path: string) => string,
  archiveData: string | null,
) => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  const env = (r.envelope ?? {}) as Record<string, unknown>;
  return {
    status: 'success',
    request: env.request ?? { processor: 'session', timestamp: job.created_at },
    process: { ...((env.process as object) ?? {}), id: job.job_id, llm_info: job.llm_info ?? null },
    error: null,
    data: {
      input: r.input ?? null,
      output: {
        ...pick(r, [
          'web_text',
          'video_transcript',
          'attachments',
          'page_texts',
          'target_dir',
          'markdown_file',
          'markdown_content',
          'structured_data',
          'archive_filename',
          'asset_dir',
        ]),
        archive_data: archiveData,
        archive_url: typeof r.archive_url === 'string' ? url(r.archive_url) : null,
        input_data: r.input ?? null,
        warnings: r.warnings ?? [],
      },
      job_id: job.job_id,
    },
  };
};
