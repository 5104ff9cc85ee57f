/**
 * Artifacts.
 * - `GET /api/jobs/{id}/download-archive`: the job's ZIP. Convention: a handler that makes an
 *   archive puts `archive_path` (relative to `paths.cache_dir`) and optionally
 *   `archive_filename` in its results; `archive_data` (base64, the original's form) is also
 *   served. 202 while pending/processing, 400 NO_ARTIFACT when finished without one, 404 unknown.
 * - `GET /api/pdf/text-content/<path>` and `GET /api/files/text/<path>`: a `.txt` file inside
 *   the cache root (`cache/pdf/…` relative to home, or relative to the cache root), checked by
 *   `resolveInside` (403 outside, 400 not .txt, 404 missing).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isTerminal } from '../../core/job.js';
import { resolveInside } from '../../files/safe-path.js';
import type { RouteOptions } from '../api-deps.js';
import { sendError } from '../reply-error.js';
import { JobIdParams } from '../schemas.js';
import { loadJob } from './jobs.js';

/** Text files larger than this are refused (they are page texts, not bulk data). */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

const dispositionName = (name: string): string => {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
};

const cleanFilename = (raw: unknown, fallback: string): string => {
  if (typeof raw !== 'string' || !raw) return fallback;
  const base = raw.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200);
  return clean || fallback;
};

/** The raw path after the route prefix, percent-decoded exactly once. */
const tailPath = (req: FastifyRequest, prefix: string): string | null => {
  const raw = (req.raw.url ?? '').split('?', 1)[0] ?? '';
  const at = raw.indexOf(prefix);
  if (at !== 0) return null;
  try {
    return decodeURIComponent(raw.slice(prefix.length));
  } catch {
    return null;
  }
};

export const artifactRoutes = async (root: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const cacheDir = opts.deps.config.paths.cache_dir;

  app.get(
    '/api/jobs/:id/download-archive',
    { schema: { tags: ['artifacts'], summary: 'The job archive (ZIP); 202 while running, 400 when there is none', params: JobIdParams } },
    async (req, reply) => {
      const job = await loadJob(opts, req.principal, req.params.id, reply);
      if (!job) return reply;
      if (!isTerminal(job.status)) {
        return reply.code(202).send({ status: 'processing', message: `the job is ${job.status}; the archive is not ready yet`, data: { job_id: job.job_id, status: job.status } });
      }
      const results = job.results ?? {};
      const filename = cleanFilename(results.archive_filename, `job-${job.job_id}-images.zip`);
      const send = (r: FastifyReply, size: number) =>
        r.code(200).header('Content-Type', 'application/zip').header('Content-Disposition', dispositionName(filename)).header('Content-Length', String(size));
      if (typeof results.archive_path === 'string' && results.archive_path) {
        const found = await resolveInside(cacheDir, results.archive_path, { rootAliases: ['cache/'] });
        if (found.ok) {
          const st = await stat(found.path);
          return send(reply, st.size).send(createReadStream(found.path));
        }
        req.log.warn({ job_id: job.job_id, reason: found.reason }, 'archive_path not servable');
      } else if (typeof results.archive_data === 'string' && results.archive_data) {
        const buf = Buffer.from(results.archive_data, 'base64');
        if (buf.length > 0) return send(reply, buf.length).send(buf);
      }
      return sendError(reply, 'NO_ARTIFACT', `the job is ${job.status} and has no archive`);
    },
  );

  const serveText = (prefix: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    const requested = tailPath(req, prefix);
    if (requested === null) return sendError(reply, 'INVALID_PARAMETERS', 'the path is not valid percent-encoding');
    const found = await resolveInside(cacheDir, requested, { extensions: ['.txt'], rootAliases: ['cache/'] });
    if (!found.ok) {
      if (found.reason === 'forbidden') return sendError(reply, 'FORBIDDEN', 'access is limited to .txt files inside the cache directory');
      if (found.reason === 'not_found') return sendError(reply, 'NOT_FOUND', 'file not found');
      return sendError(reply, 'INVALID_PARAMETERS', found.message, [{ path: '/path', problem: found.message }]);
    }
    const st = await stat(found.path);
    if (st.size > MAX_TEXT_BYTES) return sendError(reply, 'FILE_TOO_LARGE', 'the text file is too large to serve');
    const content = await readFile(found.path, 'utf8');
    return { file_path: requested, content };
  };
  const textSchema = (summary: string) => ({ schema: { tags: ['artifacts'], summary } });
  app.get('/api/pdf/text-content/*', textSchema('A .txt file from the cache (the original PDF page-text route)'), serveText('/api/pdf/text-content/'));
  app.get('/api/files/text/*', textSchema('A .txt file from the cache'), serveText('/api/files/text/'));
};
