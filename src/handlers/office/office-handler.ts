/**
 * The `office` job type: DOCX, XLSX, PPTX (upload, allowed local file or guarded URL) →
 * content hash → cached work dir `cache/office/<hash>/md_<options>/` with `output.md`,
 * `images/`, `previews/` and `archive.zip` → results with API URLs. A cache hit is a normal
 * job (progress, results, webhooks) with `is_from_cache: true`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, parse as parsePath } from 'node:path';
import type { SecretaryConfig } from '../../config/defaults.js';
import { touchCacheEntry } from '../../files/retention.js';
import type { Job } from '../../core/job.js';
import { cacheRelative, hashFile, shortHash } from '../../files/cache-layout.js';
import { extractOffice, type OfficeResult } from '../../processors/office/index.js';
import type { HandlerContext, JobTypeDefinition } from '../../worker/registry.js';
import { param, resolveInputFile } from '../shared/input-file.js';
import { officeParameters, validateOfficeParameters } from './office-parameters.js';
import { officeInputExtension, sofficeOptions, writeJsonAtomic } from './office-shared.js';

const RESULT_FILE = 'result.json';
/** Bump when the Markdown a converter writes changes, so old cache entries are not reused. */
const CONVERTER_VERSION = 1;

const buildResults = (
  config: SecretaryConfig,
  job: Job,
  r: OfficeResult,
  workDir: string,
  meta: { cacheKey: string; fromCache: boolean; name: string; started: number },
): Record<string, unknown> => {
  const rel = (f: string) => cacheRelative(config.paths.cache_dir, join(workDir, f));
  const target = cacheRelative(config.paths.cache_dir, workDir);
  const images = r.images.map(rel);
  const previews = r.previews.map(rel);
  const metadata = {
    file_name: meta.name,
    format: r.kind,
    title: r.title,
    ...(r.kind === 'pptx' ? { slide_count: r.unit_count } : r.kind === 'xlsx' ? { sheet_count: r.unit_count } : {}),
    page_count: r.page_count,
    image_count: images.length,
    preview_count: previews.length,
    truncated_rows: r.truncated_rows,
    warnings: r.warnings,
    previews_skipped: r.previews_skipped,
    process_dir: target,
    text_contents: r.text_contents,
  };
  return {
    extracted_text: r.markdown,
    markdown_content: r.markdown,
    markdown_file: rel(r.markdown_file),
    text_contents: r.text_contents,
    page_count: r.page_count,
    metadata,
    images,
    previews,
    assets: [...images, ...previews],
    target_dir: target,
    asset_dir: target,
    archive_path: rel(r.archive),
    archive_filename: `office_${job.job_id}.zip`,
    is_from_cache: meta.fromCache,
    cache_key: meta.cacheKey,
    structured_data: {
      status: 'success',
      request: { processor: 'office', timestamp: new Date(meta.started).toISOString(), parameters: { file_name: meta.name } },
      process: {
        id: job.job_id,
        main_processor: 'office',
        started: new Date(meta.started).toISOString(),
        duration: Date.now() - meta.started,
        is_from_cache: meta.fromCache,
        cache_key: meta.cacheKey,
      },
      error: null,
      data: { extracted_text: r.markdown, metadata },
    },
  };
};

export const runOfficeJob = async (config: SecretaryConfig, job: Job, ctx: HandlerContext): Promise<Record<string, unknown>> => {
  const started = Date.now();
  const p = job.parameters;
  const office = config.processors.office;
  const includeImages = param<boolean>(p, 'include_images') ?? true;
  const includePreviews = param<boolean>(p, 'include_previews') ?? true;
  const useCache = param<boolean>(p, 'use_cache') ?? true;
  const force = (param<boolean>(p, 'force_refresh') ?? false) || (param<boolean>(p, 'force_overwrite') ?? false);
  ctx.progress('initializing', 5, 'Job initialisiert');
  const input = await resolveInputFile(p, {
    config,
    jobId: job.job_id,
    maxBytes: office.max_file_size_mb * 1024 * 1024,
    signal: ctx.signal,
    extension: officeInputExtension(p, '.docx'),
  });
  ctx.log('info', `input: ${input.source} ${input.name}`);
  const contentHash = await hashFile(input.path);
  const optionKey = JSON.stringify([CONVERTER_VERSION, includeImages, includePreviews, office.max_sheet_rows, office.max_preview_pages]);
  const cacheKey = shortHash(`${contentHash}:${optionKey}`, 32);
  const workDir = join(config.paths.cache_dir, 'office', contentHash.slice(0, 32), `md_${shortHash(optionKey)}`);
  const cached = join(workDir, RESULT_FILE);
  if (useCache && !force && existsSync(cached)) {
    const r = JSON.parse(await readFile(cached, 'utf8')) as OfficeResult;
    ctx.log('info', `cache hit ${cacheKey}`);
    await touchCacheEntry(workDir);
    ctx.progress('postprocessing', 95, 'Ergebnis aus dem Cache');
    return buildResults(config, job, r, workDir, { cacheKey, fromCache: true, name: input.name, started });
  }
  ctx.progress('processing', 30, 'Office-Dokument wird verarbeitet');
  const result = await extractOffice({
    filePath: input.path,
    workDir,
    originalName: input.name,
    includeImages,
    includePreviews,
    maxSheetRows: office.max_sheet_rows,
    maxPreviewPages: office.max_preview_pages,
    soffice: sofficeOptions(config),
    signal: ctx.signal,
    onProgress: (step, percent, message) => ctx.progress(step, percent, message),
  });
  if (result.previews_skipped) ctx.log('warning', `previews skipped: ${result.previews_skipped}`);
  for (const w of result.warnings.slice(0, 10)) ctx.log('warning', w);
  ctx.progress('postprocessing', 95, 'Ergebnisse werden gespeichert');
  await writeJsonAtomic(cached, result);
  return buildResults(config, job, result, workDir, { cacheKey, fromCache: false, name: input.name, started });
};

/** `completed` webhook/SSE data as the original sent it (original §4.3; client-contract §3.4). */
export const officeCallbackData = (job: Job, url: (path: string) => string): Record<string, unknown> => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  const meta = (r.metadata ?? {}) as Record<string, unknown>;
  const publicMeta = Object.fromEntries(Object.entries(meta).filter(([k]) => k !== 'process_dir'));
  const data: Record<string, unknown> = {
    extracted_text: r.extracted_text ?? '',
    metadata: { ...publicMeta, text_contents: r.text_contents ?? [] },
    markdown_url: url(`/api/office/jobs/${job.job_id}/markdown`),
  };
  // `archive_url`, not `images_archive_url`: the client ignores it today; sending the latter
  // would start importing office images there (client-contract §6 row 3, docs/office.md)
  if (r.archive_path) data.archive_url = url(`/api/jobs/${job.job_id}/download-archive`);
  return data;
};

export const officeJobType = (config: SecretaryConfig): JobTypeDefinition => ({
  type: 'office',
  description: 'DOCX, XLSX, PPTX → Markdown (headings, lists, tables, images), page/slide previews with LibreOffice, archive.',
  parameters: officeParameters,
  validate: validateOfficeParameters,
  handler: (job, ctx) => runOfficeJob(config, job, ctx),
  callbackData: officeCallbackData,
});

/** The stem used for names derived from the client's file name. */
export const officeStem = (name: string): string => parsePath(name).name || 'document';
export const officeExtension = (name: string): string => extname(name).toLowerCase();
