/**
 * The original's office endpoints (original §3.4; client-contract §2.1), same multipart field
 * names and defaults; each creates a job and answers the 202 ACK with the internal job id
 * (and the client's `jobId` as `job.external_id`):
 * - `POST /api/office/process` (DOCX, XLSX, PPTX → Markdown; job type `office`)
 * - `POST /api/office/process-via-pdf` (LibreOffice → PDF → a PDF method; `office_via_pdf`)
 * - `GET /api/office/jobs/{id}/markdown`, `/mistral-ocr-raw` (200 / 202 running / 400 none / 404)
 * Uploads are stored under a generated name (`cache/uploads/upload_<uuid>.<ext>`); the client's
 * file name is kept only as a base name (`../../evil.docx` → `evil.docx`).
 */
import { parse as parsePath } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretaryError } from '../../core/errors.js';
import { cacheRelative } from '../../files/cache-layout.js';
import { sniffFile } from '../../processors/file-type.js';
import type { RouteOptions } from '../api-deps.js';
import { sendResultFile } from '../artifact-reply.js';
import {
  removeUploadOnError,
  requireUpload,
  submitIngressJob,
  webhookFromFields,
} from '../ingress.js';
import { boolField, intField, jsonObjectField, readIngressForm } from '../multipart-form.js';

const stripUndefined = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const schema = (summary: string) => ({
  schema: { tags: ['office'], summary, consumes: ['multipart/form-data'] },
});

export const officeRoutes = async (app: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const cacheDir = opts.deps.config.paths.cache_dir;

  /**
   * Reads the upload and creates a `jobType` job: the shared fields (upload, cache, images,
   * force_refresh, webhook) plus the route's own; `check` may refuse the upload.
   */
  const officeJob = async (
    req: FastifyRequest,
    reply: FastifyReply,
    jobType: 'office' | 'office_via_pdf',
    own: (f: Record<string, string>) => Record<string, unknown>,
    check?: (path: string) => Promise<void>,
  ) => {
    const form = await readIngressForm(req, cacheDir);
    return removeUploadOnError(form, async () => {
      const upload = requireUpload(form);
      await check?.(upload.path);
      const f = form.fields;
      const parameters = stripUndefined({
        upload_path: cacheRelative(cacheDir, upload.path),
        original_filename: upload.filename,
        ...own(f),
        use_cache: boolField(f, 'useCache', boolField(f, 'use_cache', true)),
        force_refresh: boolField(f, 'force_refresh', false),
      });
      return await submitIngressJob(
        opts,
        req,
        reply,
        form,
        { job_type: jobType, parameters, ...webhookFromFields(opts, f) },
        { processor: jobType },
      );
    });
  };

  app.post(
    '/api/office/process',
    schema('DOCX, XLSX or PPTX (multipart `file`) → Markdown, images, previews, as a job'),
    (req, reply) =>
      officeJob(
        req,
        reply,
        'office',
        (f) => ({
          include_images: boolField(f, 'includeImages', boolField(f, 'include_images', true)),
          include_previews: boolField(f, 'includePreviews', boolField(f, 'include_previews', true)),
        }),
        async (path) => {
          const kind = await sniffFile(path);
          if (kind !== 'zip') {
            throw new SecretaryError(
              'UNSUPPORTED_FILE',
              `not a DOCX, XLSX or PPTX file (the content is ${kind}); other formats (.doc, .odt, .rtf, …) go through /api/office/process-via-pdf`,
              { detected: kind },
            );
          }
        },
      ),
  );

  app.post(
    '/api/office/process-via-pdf',
    schema('Office document → PDF (LibreOffice) → PDF extraction (default mistral_ocr), as a job'),
    (req, reply) =>
      officeJob(req, reply, 'office_via_pdf', (f) => ({
        extraction_method: f.extraction_method || 'mistral_ocr',
        page_start: intField(f, 'page_start', 1),
        page_end: intField(f, 'page_end', 1),
        template: f.template || undefined,
        context: jsonObjectField(f, 'context'),
        target_language: f.target_language || undefined,
        include_images: boolField(f, 'includeImages', boolField(f, 'include_images', false)),
      })),
  );

  const params = {
    type: 'object',
    properties: { id: { type: 'string', maxLength: 200 } },
    required: ['id'],
  } as const;
  const stemOf = (results: Record<string, unknown>, id: string): string => {
    const meta = (results.metadata ?? {}) as Record<string, unknown>;
    return typeof meta.file_name === 'string' && meta.file_name
      ? parsePath(meta.file_name).name || id
      : id;
  };
  app.get(
    '/api/office/jobs/:id/markdown',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'The Markdown of an office job (202 while running, 400 none, 404 unknown)',
        params,
      },
    },
    (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) =>
      sendResultFile(opts, req, reply, {
        key: 'markdown_file',
        contentType: 'text/markdown; charset=utf-8',
        filename: (r, id) => `${stemOf(r, id)}.md`,
        what: 'the Markdown',
        disposition: 'inline',
      }),
  );
  app.get(
    '/api/office/jobs/:id/mistral-ocr-raw',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'The raw Mistral OCR result of an office_via_pdf job',
        params,
      },
    },
    (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) =>
      sendResultFile(opts, req, reply, {
        key: 'mistral_ocr_raw_path',
        contentType: 'application/json',
        filename: (_r, id) => `mistral_ocr_raw_${id}.json`,
        what: 'the raw Mistral OCR result',
      }),
  );
};
