/**
 * The original's media endpoints (original §3.8; client-contract §2.1), same field names:
 * - `POST /api/audio/process` (multipart `file`)
 * - `POST /api/video/process` (multipart `file`, or `url`)
 * - `POST /api/video/youtube` (`url`; multipart, or a JSON body)
 * Each creates an `audio`/`video`/`youtube` job. With `callback_url`: 202 ACK and webhooks.
 * Without: the original answered synchronously, so the route waits for the job (through store
 * events, never blocking the server) and answers 200 with the envelope
 * `{status:"success", data:{transcription:{text, segments, language}, …}}`, 400 with the job's
 * error, or the 202 ACK (with the job id to poll) when `server.max_wait_ms` runs out.
 */
import { rm } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretaryError } from '../../core/errors.js';
import { cacheRelative } from '../../files/cache-layout.js';
import {
  AUDIO_EXTENSIONS,
  LANGUAGE_PATTERN,
  VIDEO_EXTENSIONS,
  type MediaKind,
} from '../../handlers/media/media-parameters.js';
import { cleanFileName } from '../../handlers/media/media-handler.js';
import { checkTemplateExists } from '../../handlers/transformer/transformer-parameters.js';
import { parseYoutubeUrl } from '../../processors/media/index.js';
import { resolveTemplatesDir, TemplateLibrary } from '../../processors/templates/index.js';
import type { RouteOptions } from '../api-deps.js';
import { removeUploadOnError, submitIngressJob, webhookFromFields } from '../ingress.js';
import {
  boolField,
  jsonObjectField,
  readIngressForm,
  type IngressForm,
} from '../multipart-form.js';

const tags = ['ingress'];
const languageRe = new RegExp(LANGUAGE_PATTERN);

const invalid = (
  path: string,
  problem: string,
  message = `${path.slice(1)}: ${problem}`,
): SecretaryError =>
  new SecretaryError('INVALID_PARAMETERS', message, { details: [{ path, problem }] });

const language = (f: Record<string, string>, name: string, fallback: string): string => {
  const v = (f[name] ?? '').trim() || fallback;
  if (!languageRe.test(v))
    throw invalid(`/${name}`, 'must be a language code such as de, en, de-DE, or auto');
  return v;
};

const checkExtension = (
  upload: NonNullable<IngressForm['upload']>,
  allowed: readonly string[],
  what: string,
): void => {
  const ext = extname(upload.filename).toLowerCase().slice(1);
  if (!allowed.includes(ext)) {
    throw new SecretaryError(
      'UNSUPPORTED_FILE',
      `${cleanFileName(upload.filename)}: ${ext ? `.${ext}` : 'a file without extension'} is not accepted as ${what}; allowed: ${allowed.join(', ')}`,
      { details: [{ path: '/file', problem: `extension must be one of ${allowed.join(', ')}` }] },
    );
  }
};

/** Parameters every media endpoint shares (the original's names: `useCache` next to snake_case). */
const commonParameters = (f: Record<string, string>, templateDefault?: string) => {
  const template = (f.template ?? '').trim() || templateDefault;
  return Object.fromEntries(
    Object.entries({
      source_language: language(f, 'source_language', 'auto'),
      target_language: language(f, 'target_language', 'de'),
      template,
      use_cache: boolField(f, 'useCache', boolField(f, 'use_cache', true)),
      force_refresh: boolField(f, 'force_refresh', false),
      context: jsonObjectField(f, 'context'),
      prompt: (f.prompt ?? '').trim() || undefined,
    }).filter(([, v]) => v !== undefined),
  );
};

export const mediaRoutes = async (app: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const cacheDir = opts.deps.config.paths.cache_dir;
  const waitMs = opts.deps.config.server.max_wait_ms;

  const templates = new TemplateLibrary(
    resolveTemplatesDir(opts.deps.config.processors.templates.dir, opts.deps.config.paths.home),
  );

  const submit = (
    req: FastifyRequest,
    reply: FastifyReply,
    form: IngressForm,
    kind: MediaKind,
    parameters: Record<string, unknown>,
  ) => {
    // an unknown template answers 404 here instead of a job that fails at once
    // (after the schema, so a malformed name is reported as a parameter problem)
    if (!opts.deps.registry.validate(kind, parameters).length)
      checkTemplateExists(templates, parameters);
    return submitIngressJob(
      opts,
      req,
      reply,
      form,
      { job_type: kind, parameters, ...webhookFromFields(opts, form.fields) },
      { processor: kind, defaultWaitMs: waitMs },
    );
  };

  const uploadInput = (form: IngressForm, allowed: readonly string[], what: string) => {
    const upload = form.upload!;
    checkExtension(upload, allowed, what);
    if (upload.size === 0) throw invalid('/file', 'the uploaded file is empty');
    return {
      upload_path: cacheRelative(cacheDir, upload.path),
      original_filename: cleanFileName(upload.filename),
    };
  };

  app.post(
    '/api/audio/process',
    {
      schema: {
        tags,
        summary: 'Transcribe an uploaded audio file (multipart `file`)',
        consumes: ['multipart/form-data'],
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) {
        throw invalid(
          '/file',
          'required',
          'send multipart/form-data with the audio file in field `file`',
        );
      }
      const form = await readIngressForm(req, cacheDir);
      return removeUploadOnError(form, async () => {
        if (!form.upload)
          throw invalid(
            '/file',
            'required',
            'no file uploaded: send the audio file as multipart field `file`',
          );
        const parameters = {
          ...uploadInput(form, AUDIO_EXTENSIONS, 'audio'),
          ...commonParameters(form.fields),
        };
        return submit(req, reply, form, 'audio', parameters);
      });
    },
  );

  app.post(
    '/api/video/process',
    {
      schema: {
        tags,
        summary: 'Transcribe a video: multipart `file`, or `url`',
        consumes: ['multipart/form-data', 'application/json'],
      },
    },
    async (req, reply) => {
      const form = await readIngressForm(req, cacheDir);
      return removeUploadOnError(form, async () => {
        const url = (form.fields.url ?? '').trim();
        let input: Record<string, unknown>;
        if (form.upload) input = uploadInput(form, VIDEO_EXTENSIONS, 'video');
        else if (url) {
          if (!/^https?:\/\//i.test(url)) throw invalid('/url', 'must be an http(s) URL');
          input = { url };
        } else
          throw invalid(
            '/file',
            'required',
            'send the video as multipart field `file`, or its address as `url`',
          );
        return submit(req, reply, form, 'video', { ...input, ...commonParameters(form.fields) });
      });
    },
  );

  app.post(
    '/api/video/youtube',
    {
      schema: {
        tags,
        summary: 'Transcribe a YouTube video (`url`; needs yt-dlp on the worker host)',
        consumes: ['multipart/form-data', 'application/json'],
      },
    },
    async (req, reply) => {
      const form = await readIngressForm(req, cacheDir);
      return removeUploadOnError(form, async () => {
        if (form.upload) await rm(form.upload.path, { force: true });
        const url = (form.fields.url ?? '').trim();
        const ref = url ? parseYoutubeUrl(url) : null;
        if (!ref) {
          throw invalid(
            '/url',
            url ? 'not a YouTube video URL' : 'required',
            'url must be a YouTube video URL: https://www.youtube.com/watch?v=<id>, https://youtu.be/<id> or https://www.youtube.com/shorts/<id>',
          );
        }
        return submit(req, reply, { ...form, upload: null }, 'youtube', {
          url: ref.url,
          ...commonParameters(form.fields),
        });
      });
    },
  );
};
