/**
 * The `pdf` job type: input (upload, allowed local file or guarded URL) → content hash →
 * cached work dir `cache/pdf/<hash>/<method-subdir>/` → extraction on the CPU pool → results
 * with API URLs. A cache hit is a normal job (progress, results, webhooks) with
 * `is_from_cache: true`.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, parse as parsePath } from 'node:path';
import type { SecretaryConfig } from '../../config/defaults.js';
import type { Job } from '../../core/job.js';
import { cacheRelative, hashFile, shortHash, textContentUrl } from '../../files/cache-layout.js';
import { touchCacheEntry } from '../../files/retention.js';
import type { ModelGateway, ResolvedModel } from '../../processors/llm/index.js';
import { extractPdf, isMistralMethod, isPdfMethod, type PdfMethod, type PdfResult } from '../../processors/pdf/index.js';
import type { HandlerContext, JobTypeDefinition } from '../../worker/registry.js';
import { param, resolveInputFile } from '../shared/input-file.js';
import { withTemplateCallbackData, withTemplateStep } from '../shared/template-step.js';
import { METHOD_ALIASES, pdfParameters, validatePdfParameters } from './pdf-parameters.js';
import {
  mistralCallbackFields,
  mistralResultFields,
  modelCacheParts,
  modelUseCase,
  resolveModel,
  runMistralOcr,
  visionProvider,
} from './pdf-models.js';

const RESULT_FILE = 'result.json';

export interface PdfOptions {
  method: PdfMethod;
  pageStart: number | null;
  pageEnd: number | null;
  includeImages: boolean;
  includePreviews: boolean;
  includeHighRes: boolean;
  useCache: boolean;
  force: boolean;
  /** Mistral methods: ask for the images' base64 and build the OCR images archive. */
  includeOcrImages: boolean;
  /** Adjusts the vision prompt (`document_type`, `language`, …). */
  context: Record<string, unknown> | null;
}

export const pdfOptions = (p: Record<string, unknown>): PdfOptions => {
  const raw = param<string>(p, 'extraction_method') ?? 'native';
  const method = METHOD_ALIASES[raw] ?? raw;
  const mistralPages = method === 'mistral_ocr_with_pages';
  return {
    method: (isPdfMethod(method) ? method : 'native') as PdfMethod,
    pageStart: param<number>(p, 'page_start') ?? null,
    pageEnd: param<number>(p, 'page_end') ?? null,
    includeImages: param<boolean>(p, 'include_images') ?? false,
    includePreviews:
      param<boolean>(p, 'include_previews') ??
      param<boolean>(p, 'include_preview_pages') ??
      (mistralPages || method.startsWith('preview')),
    includeHighRes: param<boolean>(p, 'include_high_res_pages') ?? false,
    useCache: param<boolean>(p, 'use_cache') ?? true,
    force: (param<boolean>(p, 'force_overwrite') ?? false) || (param<boolean>(p, 'force_refresh') ?? false),
    includeOcrImages: param<boolean>(p, 'include_ocr_images') ?? true,
    context: param<Record<string, unknown>>(p, 'context') ?? null,
  };
};

/** What a `pdf` job stores as results (seed 000 names plus the webhook's flat fields). */
const buildResults = (
  config: SecretaryConfig,
  job: Job,
  r: PdfResult,
  workDir: string,
  meta: { cacheKey: string; fromCache: boolean; name: string; opts: PdfOptions },
): Record<string, unknown> => {
  const rel = (f: string) => cacheRelative(config.paths.cache_dir, join(workDir, f));
  const target = cacheRelative(config.paths.cache_dir, workDir);
  const imagesArchive = r.files.archives.images ? rel(r.files.archives.images) : null;
  const pagesArchive = r.files.archives.pages ?? r.files.archives.previews;
  const metadata = {
    ...r.metadata,
    file_name: meta.name,
    page_start: r.page_start,
    page_end: r.page_end,
    pages_processed: r.pages_processed,
    extraction_method: r.method,
    process_dir: target,
  };
  // the text is stored once (`extracted_text`, and per page in `text_contents`); callbacks and
  // synchronous answers build the original's `metadata.text_contents` and envelope `data` from it
  return {
    extracted_text: r.extracted_text,
    ocr_text: r.ocr_text,
    markdown_content: null,
    text_contents: r.text_contents,
    page_count: r.page_count,
    metadata,
    page_texts: r.files.page_texts.map((f) => textContentUrl(rel(f))),
    ocr_page_texts: r.files.ocr_texts.map((f) => textContentUrl(rel(f))),
    assets: [...r.files.images, ...r.files.embedded_images].map(rel),
    previews: r.files.previews.map(rel),
    high_res_pages: r.files.high_res.map(rel),
    target_dir: target,
    asset_dir: target,
    archive_path: imagesArchive,
    archive_filename: imagesArchive ? `${parsePath(meta.name).name}_images.zip` : null,
    pages_archive_path: pagesArchive ? rel(pagesArchive) : null,
    pages_archive_filename: pagesArchive ? (r.files.archives.pages ? 'pages.zip' : 'previews.zip') : null,
    ...mistralResultFields(job, r, rel),
    is_from_cache: meta.fromCache,
    cache_key: meta.cacheKey,
    structured_data: {
      status: 'success',
      request: { processor: 'pdf', timestamp: new Date().toISOString(), parameters: { extraction_method: r.method } },
      process: {
        id: job.job_id,
        main_processor: 'PDFProcessor',
        is_from_cache: meta.fromCache,
        cache_key: meta.cacheKey,
        llm_info: job.llm_info ?? { requests: [], requests_count: 0, total_tokens: 0, total_duration: 0 },
      },
      error: null,
      data: { metadata },
    },
  };
};

/** Runs the method: Mistral OCR, or `extractPdf` (with the vision model for `llm*`). */
const runExtraction = async (a: {
  config: SecretaryConfig;
  models: ModelGateway | null;
  resolved: ResolvedModel | null;
  job: Job;
  ctx: HandlerContext;
  opts: PdfOptions;
  filePath: string;
  name: string;
  workDir: string;
}): Promise<PdfResult> => {
  const { config, models, resolved, ctx, opts } = a;
  const useModelCache = opts.useCache && !opts.force;
  if (isMistralMethod(opts.method) && models && resolved) {
    return runMistralOcr({
      config,
      models,
      resolved,
      job: a.job,
      ctx,
      filePath: a.filePath,
      workDir: a.workDir,
      method: opts.method,
      pageStart: opts.pageStart,
      pageEnd: opts.pageEnd,
      includeOcrImages: opts.includeOcrImages,
      includePreviews: opts.includePreviews,
      includeHighRes: opts.includeHighRes,
      useCache: useModelCache,
    });
  }
  return extractPdf({
    filePath: a.filePath,
    workDir: a.workDir,
    method: opts.method,
    pageStart: opts.pageStart,
    pageEnd: opts.pageEnd,
    maxPages: config.processors.pdf.max_pages,
    includeImages: opts.includeImages,
    includePreviews: opts.includePreviews,
    includeHighRes: opts.includeHighRes,
    originalName: a.name,
    ...(models && resolved
      ? {
          llm: visionProvider(config, models, resolved, ctx, { context: opts.context, useCache: useModelCache }),
          visionDpi: config.processors.pdf.vision_dpi,
        }
      : {}),
    signal: ctx.signal,
    onProgress: (step, percent, message) => ctx.progress(step, percent, message),
  });
};

export const runPdfJob = async (
  config: SecretaryConfig,
  job: Job,
  ctx: HandlerContext,
  models: ModelGateway | null = null,
): Promise<Record<string, unknown>> => {
  const p = job.parameters;
  const opts = pdfOptions(p);
  // a method whose model provider is missing fails before any work (LLM_NOT_CONFIGURED)
  const useCase = modelUseCase(opts.method);
  const resolved = useCase ? resolveModel(models, useCase, opts.method) : null;
  ctx.progress('initializing', 0, 'Job initialisiert');
  ctx.progress('downloading_or_opening', 5, 'Dokument wird geöffnet');
  const input = await resolveInputFile(p, {
    config,
    jobId: job.job_id,
    maxBytes: config.processors.pdf.max_file_size_mb * 1024 * 1024,
    signal: ctx.signal,
    extension: '.pdf',
  });
  ctx.log('info', `input: ${input.source} ${input.name}`);
  const contentHash = await hashFile(input.path);
  const optionKey = JSON.stringify([
    opts.method,
    opts.pageStart,
    opts.pageEnd,
    opts.includeImages,
    opts.includePreviews,
    opts.includeHighRes,
    ...modelCacheParts(config, resolved, opts),
  ]);
  const cacheKey = shortHash(`${contentHash}:${optionKey}`, 32);
  // useCache=false neither reads nor writes the shared cache dir: the run gets its own dir, so
  // a second submission of the same document never replaces files the first one's callback
  // receiver is still downloading (the real client sends useCache=false and may submit twice)
  const workDir = join(
    config.paths.cache_dir,
    'pdf',
    contentHash.slice(0, 32),
    opts.useCache ? `${opts.method}_${shortHash(optionKey)}` : `jobs/${job.job_id}`,
  );
  const cached = join(workDir, RESULT_FILE);
  if (opts.useCache && !opts.force && existsSync(cached)) {
    const r = JSON.parse(await readFile(cached, 'utf8')) as PdfResult;
    ctx.log('info', `cache hit ${cacheKey}`);
    await touchCacheEntry(workDir);
    ctx.progress('postprocessing', 95, 'Ergebnis aus dem Cache');
    return buildResults(config, job, r, workDir, { cacheKey, fromCache: true, name: input.name, opts });
  }
  const result = await runExtraction({ config, models, resolved, job, ctx, opts, filePath: input.path, name: input.name, workDir });
  ctx.progress('postprocessing', 99, 'Ergebnisse werden gespeichert');
  await writeFile(cached, JSON.stringify(result));
  return buildResults(config, job, result, workDir, { cacheKey, fromCache: false, name: input.name, opts });
};

/** `completed` webhook/SSE data as the real client reads it (client-contract §3.4). */
export const pdfCallbackData = (job: Job, url: (path: string) => string): Record<string, unknown> => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  const meta = (r.metadata ?? {}) as Record<string, unknown>;
  const data: Record<string, unknown> = {
    extracted_text: r.extracted_text ?? '',
    metadata: { text_contents: r.text_contents ?? [], page_count: r.page_count ?? null, file_name: meta.file_name ?? null },
  };
  if (r.archive_path) data.images_archive_url = url(`/api/jobs/${job.job_id}/download-archive`);
  if (r.pages_archive_path) data.pages_archive_url = url(`/api/pdf/jobs/${job.job_id}/download-pages-archive`);
  return { ...data, ...mistralCallbackFields(job, url) };
};

export const pdfJobType = (config: SecretaryConfig, models: ModelGateway | null = null): JobTypeDefinition => ({
  type: 'pdf',
  description: 'PDF extraction: native text, OCR, previews, page images, archives; vision LLM (llm*) and Mistral OCR (mistral_ocr*) methods through the model providers.',
  parameters: pdfParameters,
  validate: validatePdfParameters,
  handler: async (job, ctx) => withTemplateStep({ config, models }, job, ctx, await runPdfJob(config, job, ctx, models)),
  callbackData: withTemplateCallbackData(pdfCallbackData),
});
