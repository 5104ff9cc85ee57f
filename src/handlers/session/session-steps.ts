/**
 * The session pipeline's steps, built for one job: the web page through the SSRF-guarded
 * fetcher, the attachments through the registered `pdf` job type, the video through the
 * registered `video` job type (absent: not available), the template through the transformer.
 * Nested job types run inside this job (its signal, usage and log) with their progress mapped
 * into a slice of this job's progress.
 */
import { join } from 'node:path';
import type { SecretaryConfig } from '../../config/defaults.js';
import type { ClaimedJob } from '../../core/job.js';
import type { ModelGateway } from '../../processors/llm/index.js';
import { isPdfMethod } from '../../processors/pdf/index.js';
import type { SessionStepFns } from '../../processors/session/index.js';
import { fetchWebPage } from '../../processors/web/index.js';
import type { HandlerContext, HandlerResult } from '../../worker/registry.js';
import { modelCallOf, transformerFor } from '../shared/transformer.js';
import type { SessionJobOptions } from './session-parameters.js';

/** Runs a registered job type's handler on a job (inside the calling job). */
export type JobRunner = (job: ClaimedJob, ctx: HandlerContext) => Promise<HandlerResult>;

export interface SessionDeps {
  config: SecretaryConfig;
  models: ModelGateway;
  /** The runner of a registered job type, or null when the type is not registered. */
  runJobType: (type: string) => JobRunner | null;
}

/** The attachments' pdf method: configured, else Mistral OCR with previews when OCR is configured, else native text with previews. */
export const attachmentsMethod = (config: SecretaryConfig, models: ModelGateway): string => {
  const configured = config.processors.session.attachments_method;
  if (configured) return configured;
  return isPdfMethod('preview_and_mistral_ocr') && models.isConfigured('ocr')
    ? 'preview_and_mistral_ocr'
    : 'preview_and_native';
};

/** A context whose progress (0–100) lands in `from`–`to` of this job, under `step`. */
export const nestedContext = (
  ctx: HandlerContext,
  step: string,
  from: number,
  to: number,
): HandlerContext => ({
  signal: ctx.signal,
  usage: ctx.usage,
  attempt: ctx.attempt,
  workerId: ctx.workerId,
  log: (level, message) => ctx.log(level, `${step}: ${message}`),
  progress: (_step, percent, message) =>
    ctx.progress(
      step,
      Math.round(from + ((to - from) * Math.max(0, Math.min(100, percent))) / 100),
      message ?? null,
    ),
});

const fromCacheRoot = (cacheDir: string, rel: string): string =>
  rel.startsWith('cache/')
    ? join(cacheDir, ...rel.slice('cache/'.length).split('/'))
    : join(cacheDir, ...rel.split('/'));

export const sessionSteps = (
  deps: SessionDeps,
  job: ClaimedJob,
  ctx: HandlerContext,
  options: SessionJobOptions,
  method: string,
): SessionStepFns & { templateName: () => string | null } => {
  const { config } = deps;
  const transformer = transformerFor(deps);
  let templateName: string | null = null;
  const video = deps.runJobType('video');
  return {
    templateName: () => templateName,
    fetchPage: async (url, signal) => {
      const page = await fetchWebPage(url, {
        timeoutMs: config.processors.web.timeout_sec * 1000,
        maxBytes: config.processors.web.max_size_mb * 1024 * 1024,
        guard: {
          allowPrivate: config.security.allow_private_urls,
          allowlist: config.security.url_allowlist,
        },
        signal,
      });
      return { url: page.url, title: page.title, markdown: page.markdown };
    },
    ...(video
      ? {
          transcribeVideo: async (videoUrl: string, sourceLanguage: string) => {
            const parameters = {
              url: videoUrl,
              source_language: sourceLanguage,
              target_language: sourceLanguage,
              use_cache: options.useCache,
              force_refresh: options.force,
            };
            const r = ((await video(
              { ...job, job_type: 'video', parameters },
              nestedContext(ctx, 'video', 20, 44),
            )) ?? {}) as Record<string, unknown>;
            const t = r.transcription as { text?: unknown } | undefined;
            const text =
              typeof r.video_transcript === 'string'
                ? r.video_transcript
                : typeof t?.text === 'string'
                  ? t.text
                  : '';
            return text;
          },
        }
      : {}),
    extractAttachments: async (url) => {
      const pdf = deps.runJobType('pdf');
      if (!pdf) throw new Error('the pdf job type is not registered');
      const parameters = {
        url,
        extraction_method: method,
        include_previews: true,
        use_cache: options.useCache,
        force_refresh: options.force,
      };
      const r = ((await pdf(
        { ...job, job_type: 'pdf', parameters },
        nestedContext(ctx, 'attachments', 45, 68),
      )) ?? {}) as Record<string, unknown>;
      const contents = Array.isArray(r.text_contents)
        ? (r.text_contents as Array<{ page: number; content: string }>)
        : [];
      const previews = Array.isArray(r.previews) ? (r.previews as string[]) : [];
      return {
        pageTexts: [...contents]
          .sort((a, b) => a.page - b.page)
          .map((c) => String(c.content ?? '')),
        previews: previews.map((p) => fromCacheRoot(config.paths.cache_dir, p)),
      };
    },
    fillTemplate: async (req) => {
      const r = await transformer.template(
        {
          text: req.text,
          template: req.template,
          context: req.context,
          sourceLanguage: req.sourceLanguage,
          targetLanguage: req.targetLanguage,
        },
        modelCallOf(
          ctx,
          ctx.usage,
          { model: options.model, provider: options.provider, use_cache: options.useCache },
          true,
        ),
      );
      templateName = r.template;
      for (const w of r.warnings) ctx.log('warning', `template: ${w}`);
      return { markdown: r.text, structured_data: r.structured_data, template: r.template };
    },
  };
};
