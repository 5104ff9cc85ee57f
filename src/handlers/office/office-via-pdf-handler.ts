/**
 * The `office_via_pdf` job type: an office document (anything LibreOffice opens: DOCX, PPTX,
 * XLSX, ODT, DOC, RTF, …) → PDF with LibreOffice (cached at `cache/office/<hash>/pdf/`) → the
 * `pdf` job type's own code path with the requested method (default `mistral_ocr`, as in the
 * original), page range and options → the PDF results plus the office fields (`markdown_file`,
 * the client's file name). A method whose provider is not configured fails before the
 * conversion with `LLM_NOT_CONFIGURED`, saying what to set.
 */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretaryConfig } from '../../config/defaults.js';
import type { ClaimedJob, Job } from '../../core/job.js';
import { cacheRelative, hashFile, shortHash } from '../../files/cache-layout.js';
import type { ModelGateway } from '../../processors/llm/index.js';
import { convertToPdf } from '../../processors/office/index.js';
import type { HandlerContext, HandlerResult, JobTypeDefinition } from '../../worker/registry.js';
import { param, resolveInputFile } from '../shared/input-file.js';
import { METHOD_ALIASES } from '../pdf/pdf-parameters.js';
import { officeStem } from './office-handler.js';
import { officeViaPdfParameters, validateOfficeParameters } from './office-parameters.js';
import { officeInputExtension, sofficeOptions, writeFileAtomic } from './office-shared.js';

/** Runs the `pdf` job type's handler on a job (the registered one, so it has the pdf type's deps). */
export type PdfRunner = (job: ClaimedJob, ctx: HandlerContext) => Promise<HandlerResult>;

export interface OfficeViaPdfDeps {
  config: SecretaryConfig;
  models: ModelGateway;
  runPdf: PdfRunner;
}

export const DEFAULT_OFFICE_VIA_PDF_METHOD = 'mistral_ocr';

/** Fails now (before LibreOffice runs) when the method needs a provider that is not configured. */
const checkProvider = (models: ModelGateway, method: string): void => {
  if (method.includes('mistral')) models.resolve('ocr');
  else if (method.startsWith('llm')) models.resolve('vision');
};

/** The inner pdf run's progress (0–100) mapped into 40–88 of this job. */
const nestedContext = (ctx: HandlerContext): HandlerContext => ({
  signal: ctx.signal,
  usage: ctx.usage,
  attempt: ctx.attempt,
  workerId: ctx.workerId,
  log: (level, message) => ctx.log(level, message),
  progress: (step, percent, message) => {
    const phase = step === 'postprocessing' || step.startsWith('processing') ? step : 'processing';
    ctx.progress(phase, Math.min(88, 40 + Math.round(Math.max(0, Math.min(100, percent)) * 0.48)), message ?? null);
  },
});

export const runOfficeViaPdfJob = async (deps: OfficeViaPdfDeps, job: ClaimedJob, ctx: HandlerContext): Promise<Record<string, unknown>> => {
  const { config } = deps;
  const p = job.parameters;
  const raw = param<string>(p, 'extraction_method') ?? DEFAULT_OFFICE_VIA_PDF_METHOD;
  const method = METHOD_ALIASES[raw] ?? raw;
  const useCache = param<boolean>(p, 'use_cache') ?? true;
  const force = (param<boolean>(p, 'force_refresh') ?? false) || (param<boolean>(p, 'force_overwrite') ?? false);
  ctx.progress('initializing', 5, 'Job initialisiert');
  checkProvider(deps.models, method);
  const input = await resolveInputFile(p, {
    config,
    jobId: job.job_id,
    maxBytes: config.processors.office.max_file_size_mb * 1024 * 1024,
    signal: ctx.signal,
    extension: officeInputExtension(p, '.docx'),
  });
  ctx.log('info', `input: ${input.source} ${input.name}`);
  const contentHash = await hashFile(input.path);
  const base = join(config.paths.cache_dir, 'office', contentHash.slice(0, 32));
  const pdfPath = join(base, 'pdf', 'document.pdf');
  if (useCache && !force && existsSync(pdfPath)) {
    ctx.log('info', 'PDF of this document from the cache');
  } else {
    ctx.progress('processing', 15, 'LibreOffice wandelt das Dokument in PDF um');
    const tmp = `${pdfPath}.tmp-${job.job_id}`;
    await convertToPdf(input.path, tmp, { ...sofficeOptions(config), extension: officeInputExtension(p, '.docx'), signal: ctx.signal });
    await rename(tmp, pdfPath);
  }
  ctx.progress('processing', 40, 'PDF wird extrahiert');
  const pdfParameters = Object.fromEntries(
    Object.entries({
      file_path: cacheRelative(config.paths.cache_dir, pdfPath),
      original_filename: `${officeStem(input.name)}.pdf`,
      extraction_method: method,
      page_start: param<number>(p, 'page_start'),
      page_end: param<number>(p, 'page_end'),
      include_images: param<boolean>(p, 'include_images') ?? false,
      template: param<string>(p, 'template'),
      context: param<Record<string, unknown>>(p, 'context'),
      target_language: param<string>(p, 'target_language'),
      use_cache: useCache,
      force_refresh: force,
    }).filter(([, v]) => v !== undefined),
  );
  const pdf = ((await deps.runPdf({ ...job, parameters: pdfParameters }, nestedContext(ctx))) ?? {}) as Record<string, unknown>;
  ctx.progress('postprocessing', 90, 'Ergebnisse werden gespeichert');
  const text = typeof pdf.extracted_text === 'string' ? pdf.extracted_text : '';
  const mdPath = join(base, 'via_pdf', `${shortHash(`${String(pdf.cache_key ?? '')}:${JSON.stringify(pdfParameters)}`, 16)}.md`);
  await writeFileAtomic(mdPath, text);
  const meta = (pdf.metadata ?? {}) as Record<string, unknown>;
  const sd = (pdf.structured_data ?? {}) as Record<string, unknown>;
  return {
    ...pdf,
    markdown_file: cacheRelative(config.paths.cache_dir, mdPath),
    office_pdf_path: cacheRelative(config.paths.cache_dir, pdfPath),
    metadata: { ...meta, file_name: input.name, source_format: officeInputExtension(p, '').replace('.', '') || null, converted_pdf: cacheRelative(config.paths.cache_dir, pdfPath) },
    structured_data: {
      ...sd,
      request: { processor: 'office_via_pdf', timestamp: new Date().toISOString(), parameters: { extraction_method: method, page_start: pdfParameters.page_start ?? null, page_end: pdfParameters.page_end ?? null } },
      process: { ...((sd.process as object) ?? {}), id: job.job_id, main_processor: 'office_via_pdf' },
    },
  };
};

/** `completed` data as the original's office_via_pdf sent it (original §4.3). */
export const officeViaPdfCallbackData = (job: Job, url: (path: string) => string): Record<string, unknown> => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  const data: Record<string, unknown> = {
    extracted_text: r.extracted_text ?? '',
    metadata: { text_contents: r.text_contents ?? [] },
    markdown_url: url(`/api/office/jobs/${job.job_id}/markdown`),
  };
  if (r.mistral_ocr_raw_path) data.mistral_ocr_raw_url = url(`/api/office/jobs/${job.job_id}/mistral-ocr-raw`);
  if (r.archive_path) data.images_archive_url = url(`/api/jobs/${job.job_id}/download-archive`);
  return data;
};

export const officeViaPdfJobType = (deps: OfficeViaPdfDeps): JobTypeDefinition => ({
  type: 'office_via_pdf',
  description: 'Office document → PDF (LibreOffice) → any PDF method (default mistral_ocr), page range honoured.',
  parameters: officeViaPdfParameters,
  validate: validateOfficeParameters,
  handler: (job, ctx) => runOfficeViaPdfJob(deps, job, ctx),
  callbackData: officeViaPdfCallbackData,
});
