/**
 * The `imageocr` job type (original §3.5, now a durable job): one image → its text via
 * Tesseract (German + English data from npm), optional 300 px preview. Limits: 10 MB and
 * 4096 px by default (`processors.imageocr`).
 */
import { join } from 'node:path';
import Type, { type TSchema } from 'typebox';
import type { SecretaryConfig } from '../../config/defaults.js';
import type { Job } from '../../core/job.js';
import { cacheRelative, hashFile, shortHash } from '../../files/cache-layout.js';
import { IMAGE_OCR_METHODS, ocrImage } from '../../processors/ocr/index.js';
import type { JobTypeDefinition, ParameterProblem } from '../../worker/registry.js';
import { param, resolveInputFile } from '../shared/input-file.js';
import { withTemplateCallbackData, withTemplateStep } from '../shared/template-step.js';
import type { ModelGateway } from '../../processors/llm/index.js';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

export const imageOcrParameters = Type.Object(
  {
    file_path: nullable(Type.String({ maxLength: 4096 })),
    filename: nullable(Type.String({ maxLength: 4096 })),
    url: nullable(Type.String({ maxLength: 8192 })),
    upload_path: nullable(Type.String({ maxLength: 4096 })),
    original_filename: nullable(Type.String({ maxLength: 1024 })),
    extraction_method: nullable(Type.Union(IMAGE_OCR_METHODS.map((m) => Type.Literal(m)))),
    use_cache: nullable(Type.Boolean()),
    template: nullable(Type.String()),
    context: nullable(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const validate = (p: Record<string, unknown>): ParameterProblem[] =>
  ['file_path', 'filename', 'url', 'upload_path'].some((k) => typeof p[k] === 'string' && (p[k] as string).length > 0)
    ? []
    : [{ path: '', problem: 'needs one of file_path, filename or url' }];

export const imageOcrJobType = (config: SecretaryConfig, models: ModelGateway | null = null): JobTypeDefinition => ({
  type: 'imageocr',
  description: 'Image OCR (Tesseract deu+eng): extracted text, image metadata, optional preview.',
  parameters: imageOcrParameters,
  validate,
  handler: async (job: Job, ctx) => {
    const p = job.parameters;
    const method = (param<string>(p, 'extraction_method') ?? 'ocr') as (typeof IMAGE_OCR_METHODS)[number];
    ctx.progress('initializing', 0, 'Job initialisiert');
    ctx.progress('downloading_or_opening', 5, 'Bild wird geöffnet');
    const maxBytes = config.processors.imageocr.max_file_size_mb * 1024 * 1024;
    const input = await resolveInputFile(p, { config, jobId: job.job_id, maxBytes, signal: ctx.signal, extension: '.img' });
    const hash = await hashFile(input.path);
    const workDir = join(config.paths.cache_dir, 'imageocr', hash.slice(0, 32), `${method}_${shortHash(method)}`);
    ctx.progress('processing', 20, 'Texterkennung läuft');
    const r = await ocrImage({
      filePath: input.path,
      workDir,
      method,
      maxFileSize: maxBytes,
      maxSide: config.processors.imageocr.max_side_px,
      originalName: input.name,
      signal: ctx.signal,
    });
    ctx.progress('postprocessing', 95, 'Ergebnisse werden gespeichert');
    const processDir = cacheRelative(config.paths.cache_dir, workDir);
    const metadata = {
      ...r.metadata,
      process_dir: processDir,
      preview_paths: r.metadata.preview_paths.map((f) => `${processDir}/${f}`),
    };
    return withTemplateStep({ config, models }, job, ctx, {
      extracted_text: r.extracted_text,
      markdown_content: r.extracted_text,
      confidence: r.confidence,
      metadata,
      target_dir: processDir,
      asset_dir: processDir,
      structured_data: {
        status: 'success',
        request: { processor: 'imageocr', timestamp: new Date().toISOString(), parameters: { extraction_method: method } },
        process: { id: job.job_id, main_processor: 'ImageOCRProcessor', is_from_cache: false, cache_key: hash.slice(0, 32) },
        error: null,
        data: { metadata, extracted_text: r.extracted_text, process_id: job.job_id, processed_at: new Date().toISOString(), status: 'success' },
      },
    });
  },
  callbackData: withTemplateCallbackData((job: Job) => {
    const r = (job.results ?? {}) as Record<string, unknown>;
    return { extracted_text: r.extracted_text ?? '', metadata: r.metadata ?? {} };
  }),
});
