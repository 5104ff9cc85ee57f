/**
 * The original's PDF and image-OCR endpoints, same multipart field names and defaults
 * (original §3.3, §3.5; client-contract §2.1): each creates a job and answers the 202 ACK.
 * - `POST /api/pdf/process` (upload), `/api/pdf/process-url`, `/api/pdf/process-mistral-ocr`
 * - `POST /api/imageocr/process` (upload), `/api/imageocr/process-url` (these were synchronous:
 *   without `callback_url` they wait for the result, up to `server.max_wait_ms`)
 * - artifacts: `GET /api/pdf/jobs/{id}/download-pages-archive`, `/mistral-ocr-raw`,
 *   `/mistral-ocr-images` (200 / 202 while running / 400 none / 404 unknown)
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretaryError } from '../../core/errors.js';
import { isTerminal } from '../../core/job.js';
import { resolveInside } from '../../files/safe-path.js';
import { cacheRelative } from '../../files/cache-layout.js';
import type { RouteOptions } from '../api-deps.js';
import {
  removeUploadOnError,
  requireUpload,
  submitIngressJob,
  webhookFromFields,
} from '../ingress.js';
import {
  boolField,
  intField,
  jsonObjectField,
  readIngressForm,
  type IngressForm,
} from '../multipart-form.js';
import { sendError } from '../reply-error.js';
import { loadJob } from './jobs.js';

const tags = ['ingress'];

const requireUrl = (form: IngressForm): string => {
  const url = form.fields.url?.trim();
  if (!url || !/^https?:\/\//i.test(url)) {
    throw new SecretaryError('INVALID_PARAMETERS', 'url must be an http(s) URL', {
      details: [{ path: '/url', problem: 'required http(s) URL' }],
    });
  }
  return url;
};

/** Parameters every PDF ingress shares (the original's names: camelCase next to snake_case). */
const pdfCommon = (f: Record<string, string>, useCacheDefault: boolean) => ({
  page_start: intField(f, 'page_start', 1),
  page_end: intField(f, 'page_end', 1),
  use_cache: boolField(f, 'useCache', boolField(f, 'use_cache', useCacheDefault)),
  force_refresh: boolField(f, 'force_refresh', false),
  target_language: f.target_language || undefined,
  template: f.template || undefined,
  context: jsonObjectField(f, 'context'),
});

const stripUndefined = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const ingressSchema = (summary: string) => ({
  schema: { tags, summary, consumes: ['multipart/form-data'] },
});

export const pdfIngressRoutes = async (app: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const cacheDir = opts.deps.config.paths.cache_dir;
  const inputOf = (form: IngressForm, source: 'upload' | 'url') =>
    source === 'upload'
      ? {
          upload_path: cacheRelative(cacheDir, requireUpload(form).path),
          original_filename: form.upload!.filename,
        }
      : { url: requireUrl(form) };

  const pdfJob = async (
    req: FastifyRequest,
    reply: FastifyReply,
    source: 'upload' | 'url',
    mistral: boolean,
  ) => {
    const form = await readIngressForm(req, cacheDir);
    return removeUploadOnError(form, async () => {
      const f = form.fields;
      const input = inputOf(form, source);
      const parameters = mistral
        ? {
            ...input,
            extraction_method: 'mistral_ocr_with_pages',
            ...pdfCommon(f, false),
            include_ocr_images: boolField(f, 'includeOCRImages', true),
            include_preview_pages: boolField(f, 'includePreviewPages', true),
            include_high_res_pages: boolField(f, 'includeHighResPages', false),
          }
        : {
            ...input,
            extraction_method: f.extraction_method || 'native',
            ...pdfCommon(f, true),
            include_images: boolField(f, 'includeImages', boolField(f, 'include_images', false)),
          };
      return await submitIngressJob(
        opts,
        req,
        reply,
        form,
        { job_type: 'pdf', parameters: stripUndefined(parameters), ...webhookFromFields(opts, f) },
        { processor: 'pdf' },
      );
    });
  };

  app.post(
    '/api/pdf/process',
    ingressSchema('Process an uploaded PDF (multipart `file`) as a job'),
    (req, reply) => pdfJob(req, reply, 'upload', false),
  );
  app.post(
    '/api/pdf/process-url',
    ingressSchema('Process a PDF from a URL as a job'),
    (req, reply) => pdfJob(req, reply, 'url', false),
  );
  app.post(
    '/api/pdf/process-mistral-ocr',
    ingressSchema('Mistral OCR of an uploaded PDF with page images'),
    (req, reply) => pdfJob(req, reply, 'upload', true),
  );

  const imageJob = async (req: FastifyRequest, reply: FastifyReply, source: 'upload' | 'url') => {
    const form = await readIngressForm(req, cacheDir);
    return removeUploadOnError(form, async () => {
      const f = form.fields;
      const input = inputOf(form, source);
      const parameters = stripUndefined({
        ...input,
        extraction_method: f.extraction_method || 'ocr',
        use_cache: boolField(f, 'useCache', boolField(f, 'use_cache', true)),
        template: f.template || undefined,
        context: jsonObjectField(f, 'context'),
      });
      return await submitIngressJob(
        opts,
        req,
        reply,
        form,
        { job_type: 'imageocr', parameters, ...webhookFromFields(opts, f) },
        { processor: 'imageocr', defaultWaitMs: opts.deps.config.server.max_wait_ms },
      );
    });
  };

  app.post(
    '/api/imageocr/process',
    ingressSchema('OCR of an uploaded image (waits for the result without callback_url)'),
    (req, reply) => imageJob(req, reply, 'upload'),
  );
  app.post('/api/imageocr/process-url', ingressSchema('OCR of an image from a URL'), (req, reply) =>
    imageJob(req, reply, 'url'),
  );

  /** Serves a file named by a results key, with the original's status codes. */
  const artifact =
    (key: string, type: string, fallbackName: (id: string) => string, what: string) =>
    async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const job = await loadJob(opts, req.principal, req.params.id, reply);
      if (!job) return reply;
      if (!isTerminal(job.status)) {
        return reply
          .code(202)
          .send({
            status: 'processing',
            message: `the job is ${job.status}; ${what} is not ready yet`,
            data: { job_id: job.job_id, status: job.status },
          });
      }
      const rel = (job.results as Record<string, unknown> | null)?.[key];
      if (job.status !== 'completed' || typeof rel !== 'string' || !rel) {
        return sendError(reply, 'NO_ARTIFACT', `job ${job.job_id} has no ${what}`);
      }
      const found = await resolveInside(cacheDir, rel, { rootAliases: ['cache/'] });
      if (!found.ok)
        return sendError(
          reply,
          'NO_ARTIFACT',
          `${what} of job ${job.job_id} is no longer available`,
        );
      const st = await stat(found.path);
      const nameKey = (job.results as Record<string, unknown>)[key.replace(/_path$/, '_filename')];
      const name = typeof nameKey === 'string' && nameKey ? nameKey : fallbackName(job.job_id);
      return reply
        .header('Content-Type', type)
        .header('Content-Length', st.size)
        .header('Content-Disposition', `attachment; filename="${name.replace(/[^\w.-]/g, '_')}"`)
        .send(createReadStream(found.path));
    };

  const params = {
    type: 'object',
    properties: { id: { type: 'string', maxLength: 200 } },
    required: ['id'],
  } as const;
  app.get(
    '/api/pdf/jobs/:id/download-pages-archive',
    { schema: { tags: ['artifacts'], params } },
    artifact(
      'pages_archive_path',
      'application/zip',
      (id) => `pages-${id}.zip`,
      'the pages archive',
    ),
  );
  app.get(
    '/api/pdf/jobs/:id/mistral-ocr-raw',
    { schema: { tags: ['artifacts'], params } },
    artifact(
      'mistral_ocr_raw_path',
      'application/json',
      (id) => `mistral_ocr_raw_${id}.json`,
      'the raw Mistral OCR result',
    ),
  );
  app.get(
    '/api/pdf/jobs/:id/mistral-ocr-images',
    { schema: { tags: ['artifacts'], params } },
    artifact(
      'mistral_ocr_images_path',
      'application/zip',
      (id) => `mistral_ocr_images_${id}.zip`,
      'the Mistral OCR images archive',
    ),
  );
};
