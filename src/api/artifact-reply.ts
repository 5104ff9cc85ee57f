/**
 * Serves a file a finished job names in its results (a path relative to the cache root), with
 * the original's artifact status codes: 200 with the file, 202 while the job is pending or
 * running, 400 `NO_ARTIFACT` when it finished without one (or the file is gone), 404 for an
 * unknown job. The path is checked by `resolveInside` (never outside the cache root).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isTerminal } from '../core/job.js';
import { resolveInside } from '../files/safe-path.js';
import type { RouteOptions } from './api-deps.js';
import { sendError } from './reply-error.js';
import { loadJob } from './routes/jobs.js';

export interface ResultFileSpec {
  /** Results key holding the path (`markdown_file`, `mistral_ocr_raw_path`). */
  key: string;
  contentType: string;
  /** Download name for the job. */
  filename: (results: Record<string, unknown>, jobId: string) => string;
  /** Words for messages (`the Markdown`). */
  what: string;
  disposition?: 'inline' | 'attachment';
}

const dispositionName = (kind: string, name: string): string => {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
};

export const sendResultFile = async (
  opts: RouteOptions,
  req: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  spec: ResultFileSpec,
): Promise<FastifyReply> => {
  const job = await loadJob(opts, req.principal, req.params.id, reply);
  if (!job) return reply;
  if (!isTerminal(job.status)) {
    return reply.code(202).send({ status: 'processing', message: `the job is ${job.status}; ${spec.what} is not ready yet`, data: { job_id: job.job_id, status: job.status } });
  }
  const results = (job.results ?? {}) as Record<string, unknown>;
  const rel = results[spec.key];
  if (job.status !== 'completed' || typeof rel !== 'string' || !rel) {
    return sendError(reply, 'NO_ARTIFACT', `job ${job.job_id} has no ${spec.what.replace(/^the /, '')}`);
  }
  const found = await resolveInside(opts.deps.config.paths.cache_dir, rel, { rootAliases: ['cache/'] });
  if (!found.ok) return sendError(reply, 'NO_ARTIFACT', `${spec.what} of job ${job.job_id} is no longer available`);
  const st = await stat(found.path);
  return reply
    .code(200)
    .header('Content-Type', spec.contentType)
    .header('Content-Length', String(st.size))
    .header('Content-Disposition', dispositionName(spec.disposition ?? 'attachment', spec.filename(results, job.job_id)))
    .send(createReadStream(found.path));
};
