/**
 * The model-using parts of the `pdf` job type: Mistral OCR (`mistral_ocr*` methods) and the
 * vision model (`llm*` methods), bound to the process's model gateway and the job's usage
 * record; plus the results and callback fields they add.
 */
import type { SecretaryConfig } from '../../config/defaults.js';
import { UnrecoverableError } from '../../core/errors.js';
import type { Job } from '../../core/job.js';
import type { ModelGateway, ResolvedModel } from '../../processors/llm/index.js';
import {
  createVisionPageProvider,
  mistralOcrPdf,
  type MistralMethod,
  type MistralOcrPdfResult,
  type PageVisionProvider,
  type PdfResult,
} from '../../processors/pdf/index.js';
import type { HandlerContext } from '../../worker/registry.js';

const MB = 1024 * 1024;

/** Which model the method needs: `ocr` (Mistral), `vision` (`llm*`) or none. */
export const modelUseCase = (method: string): 'ocr' | 'vision' | null =>
  method.includes('mistral_ocr') ? 'ocr' : method.startsWith('llm') ? 'vision' : null;

/** The provider and model for the method, or `LLM_NOT_CONFIGURED` before any work starts. */
export const resolveModel = (
  models: ModelGateway | null,
  useCase: 'ocr' | 'vision',
  method: string,
): ResolvedModel => {
  if (!models) {
    throw new UnrecoverableError(
      `extraction method ${method} needs a model provider, and this process has none`,
      'LLM_NOT_CONFIGURED',
      { method },
    );
  }
  return models.resolve(useCase);
};

const concurrencyOf = (config: SecretaryConfig, r: ResolvedModel): number =>
  Math.max(1, config.llm.providers[r.provider]?.max_concurrent ?? 4);

export interface ModelRun {
  config: SecretaryConfig;
  models: ModelGateway;
  resolved: ResolvedModel;
  job: Job;
  ctx: HandlerContext;
  filePath: string;
  workDir: string;
  method: MistralMethod;
  pageStart: number | null;
  pageEnd: number | null;
  includeOcrImages: boolean;
  includePreviews: boolean;
  includeHighRes: boolean;
  useCache: boolean;
}

/** Mistral OCR of the job's PDF (chunks, images, raw answer, page images). */
export const runMistralOcr = async (a: ModelRun): Promise<MistralOcrPdfResult> => {
  const { config, models, ctx } = a;
  const limits = config.processors.pdf.mistral;
  ctx.log('info', `Mistral OCR with ${a.resolved.provider} (${a.resolved.model})`);
  const result = await mistralOcrPdf({
    filePath: a.filePath,
    workDir: a.workDir,
    method: a.method,
    pageStart: a.pageStart,
    pageEnd: a.pageEnd,
    maxPages: config.processors.pdf.max_pages,
    maxFileSize: config.processors.pdf.max_file_size_mb * MB,
    includeOcrImages: a.includeOcrImages,
    includePreviews: a.includePreviews,
    includeHighRes: a.includeHighRes,
    concurrency: concurrencyOf(config, a.resolved),
    maxPagesPerRequest: limits.max_pages_per_request,
    maxRequestBytes: limits.max_request_mb * MB,
    chunkRetries: limits.chunk_retries,
    ocr: (req) =>
      models.ocr({
        ...req,
        usage: ctx.usage,
        useCache: a.useCache,
        purpose: 'ocr',
        processor: 'PDFProcessor',
      }),
    signal: ctx.signal,
    onProgress: (step, percent, message) => ctx.progress(step, percent, message),
  });
  const m = result.mistral;
  ctx.log(
    'info',
    `OCR requests: ${m.requests.map((r) => `${r.pages} (${(r.bytes / MB).toFixed(1)} MB${r.split ? ', split' : ''}${r.attempts > 1 ? `, ${r.attempts} attempts` : ''})`).join('; ')}`,
  );
  if (m.missing_images.length) {
    ctx.log(
      'warning',
      `the OCR answer has no data for ${m.missing_images.length} referenced image(s): ${m.missing_images.slice(0, 10).join(', ')}`,
    );
  }
  return result;
};

/** The vision model for the `llm*` methods, bound to the job (usage, cache, cancel). */
export const visionProvider = (
  config: SecretaryConfig,
  models: ModelGateway,
  resolved: ResolvedModel,
  ctx: HandlerContext,
  opts: { context: Record<string, unknown> | null; useCache: boolean },
): PageVisionProvider => {
  ctx.log('info', `vision model ${resolved.provider} (${resolved.model}) for the page images`);
  return createVisionPageProvider({
    chat: (req) => models.chat('vision', req),
    context: opts.context,
    usage: ctx.usage,
    useCache: opts.useCache,
    concurrency: concurrencyOf(config, resolved),
  });
};

/** What besides the file and the options decides a model method's result (for the cache key). */
export const modelCacheParts = (
  config: SecretaryConfig,
  resolved: ResolvedModel | null,
  opts: { method: string; includeOcrImages: boolean; context: Record<string, unknown> | null },
): unknown[] => {
  if (!resolved) return [];
  if (modelUseCase(opts.method) === 'ocr') {
    return [resolved.provider, resolved.model, opts.includeOcrImages];
  }
  return [resolved.provider, resolved.model, config.processors.pdf.vision_dpi, opts.context];
};

const isMistral = (r: PdfResult): r is MistralOcrPdfResult =>
  typeof (r as Partial<MistralOcrPdfResult>).mistral === 'object';

/** Results fields of a Mistral run: artifact paths (served by the `/api/pdf/jobs/{id}/…` routes). */
export const mistralResultFields = (
  job: Job,
  r: PdfResult,
  rel: (file: string) => string,
): Record<string, unknown> => {
  if (!isMistral(r)) return {};
  const m = r.mistral;
  return {
    mistral_ocr_raw_path: rel(m.raw_file),
    mistral_ocr_raw_filename: `mistral_ocr_raw_${job.job_id}.json`,
    mistral_ocr_images_path: m.images_archive ? rel(m.images_archive) : null,
    mistral_ocr_images_filename: m.images_archive ? `mistral_ocr_images_${job.job_id}.zip` : null,
    mistral_ocr_raw_metadata: {
      model: m.model,
      pages_count: m.pages_count,
      usage_info: m.usage_info,
    },
    mistral_ocr_requests: m.requests,
    mistral_ocr_image_count: m.image_count,
    mistral_ocr_missing_images: m.missing_images,
  };
};

/** `completed` callback fields of a Mistral run (client-contract §3.4). */
export const mistralCallbackFields = (
  job: Job,
  url: (path: string) => string,
): Record<string, unknown> => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  if (r.mistral_ocr_raw_path) {
    data.mistral_ocr_raw_url = url(`/api/pdf/jobs/${job.job_id}/mistral-ocr-raw`);
    data.mistral_ocr_raw_metadata = r.mistral_ocr_raw_metadata ?? null;
  }
  if (r.mistral_ocr_images_path) {
    data.mistral_ocr_images_url = url(`/api/pdf/jobs/${job.job_id}/mistral-ocr-images`);
  }
  return data;
};
