/**
 * The original's session and event endpoints (§3.7), each a job underneath:
 * - `POST /api/session/process` — JSON; without `callback_url` the answer waits for the job
 *   and is 200 `{status, request, process, error, data: {input, output}}` (the original's
 *   shape; `output.archive_data` is the ZIP as base64 only up to
 *   `processors.session.inline_archive_max_mb`, always `output.archive_url`); a failure is a
 *   4xx `{status: 'error', error}` naming the failed step. With `callback_url`: 202 ACK and
 *   webhooks.
 * - `POST /api/session/process-async` — the same, always 202 (the original's was a stub).
 * - `GET /api/session/cached` — `{status, count, sessions}`: the cached sessions, flattened as
 *   the original did; optional filters `event`, `track`, `target_language`.
 * - `POST /api/events/{event}/summary` — JSON or query `template` (default
 *   `Event_eco_social`), `target_language` (de), `useCache` (false); waits like
 *   `/session/process`, 202 with `callback_url`.
 * Missing required fields answer 400 `INVALID_PARAMETERS` naming each one (the original: 500).
 */
import { readFile, stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretaryError } from '../../core/errors.js';
import type { Job, NewJob } from '../../core/job.js';
import { resolveInside } from '../../files/safe-path.js';
import {
  DEFAULT_EVENT_TEMPLATE,
  noSessionsError,
} from '../../handlers/session/event-summary-handler.js';
import { listSessionCache, sessionRecordsOf } from '../../handlers/session/session-cache.js';
import { sessionEnvelope } from '../../handlers/session/session-results.js';
import { normaliseLanguage } from '../../processors/llm/index.js';
import { sanitizePathPart } from '../../processors/session/index.js';
import { resolveTemplatesDir, TemplateLibrary } from '../../processors/templates/index.js';
import { absoluteUrl } from '../../webhooks/payloads.js';
import type { RouteOptions } from '../api-deps.js';
import { ackBody, answerWhenDone, webhookFromFields } from '../ingress.js';

const tags = ['session'];
const MB = 1024 * 1024;
/** Body keys that are not job parameters. */
const TRANSPORT_KEYS = new Set(['callback_url', 'callback_token', 'jobId', 'wait_ms']);

type Body = Record<string, unknown>;

const bodyOf = (req: FastifyRequest): Body => {
  const b = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b)) {
    throw new SecretaryError('INVALID_PARAMETERS', 'the body must be a JSON object', {
      details: [{ path: '/', problem: 'must be a JSON object' }],
    });
  }
  return b as Body;
};

const transportFields = (b: Body): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const k of TRANSPORT_KEYS) {
    const v = b[k];
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  }
  return out;
};

/** `invalid parameters: event: required…; url: …` — every problem named in the message too. */
const invalid = (problems: Array<{ path: string; problem: string }>): SecretaryError =>
  new SecretaryError(
    'INVALID_PARAMETERS',
    `invalid parameters: ${problems.map((p) => `${p.path.replace(/^\/(parameters\/)?/, '') || 'body'}: ${p.problem}`).join('; ')}`,
    { details: problems },
  );

/** The archive as base64 when it exists and is at most `maxBytes`; else null. */
const inlineArchive = async (
  cacheDir: string,
  job: Job,
  maxBytes: number,
): Promise<string | null> => {
  const rel = (job.results as Record<string, unknown> | null)?.archive_path;
  if (typeof rel !== 'string' || !rel) return null;
  const found = await resolveInside(cacheDir, rel, { rootAliases: ['cache/'] });
  if (!found.ok) return null;
  const st = await stat(found.path);
  if (st.size > maxBytes) return null;
  return (await readFile(found.path)).toString('base64');
};

export const sessionRoutes = async (app: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const { config, store, registry } = opts.deps;
  const cacheDir = config.paths.cache_dir;
  const templates = new TemplateLibrary(
    resolveTemplatesDir(config.processors.templates.dir, config.paths.home),
  );
  const url = (p: string) => absoluteUrl(opts.payload.publicBaseUrl, p);

  type Answer = (job: Job) => Promise<unknown> | unknown;

  const submit = async (
    req: FastifyRequest,
    reply: FastifyReply,
    fields: Record<string, string>,
    input: NewJob,
    processor: string,
    answer: Answer,
    alwaysAck: boolean,
  ) => {
    const problems = registry.validate(input.job_type, input.parameters ?? {});
    if (problems.length) {
      // an unknown template alone is a 404 with close names
      if (problems.length === 1 && problems[0]!.path === '/parameters/template') {
        const p = input.parameters ?? {};
        const extra = (p.extra ?? {}) as Record<string, unknown>;
        const template = String(
          p.template ??
            extra.template ??
            (input.job_type === 'session' ? 'Session' : DEFAULT_EVENT_TEMPLATE),
        );
        templates.resolve(template, String(p.target_language ?? extra.target_language ?? 'de'));
      }
      throw invalid(problems);
    }
    const { job } = await store.createJob({ ...input, user_id: req.principal?.user_id ?? null });
    const webhookUrl = input.webhook?.url ?? null;
    if (webhookUrl || alwaysAck) return reply.code(202).send(ackBody(job, processor, webhookUrl));
    const asked = Number(fields.wait_ms ?? 0);
    const waitMs =
      Number.isFinite(asked) && asked > 0
        ? Math.min(asked, config.server.max_wait_ms)
        : config.server.max_wait_ms;
    return answerWhenDone(opts, req, reply, job, { waitMs, processor, success: answer });
  };

  const sessionJob = (req: FastifyRequest): { fields: Record<string, string>; input: NewJob } => {
    const body = bodyOf(req);
    const fields = transportFields(body);
    const parameters = Object.fromEntries(
      Object.entries(body).filter(([k, v]) => !TRANSPORT_KEYS.has(k) && v !== undefined),
    );
    return {
      fields,
      input: { job_type: 'session', parameters, ...webhookFromFields(opts, fields) },
    };
  };

  const sessionAnswer: Answer = async (job) =>
    sessionEnvelope(
      job,
      url,
      await inlineArchive(cacheDir, job, config.processors.session.inline_archive_max_mb * MB),
    );

  app.post(
    '/api/session/process',
    {
      schema: {
        tags,
        summary: 'Process a session (waits for the result without callback_url)',
        consumes: ['application/json'],
      },
    },
    async (req, reply) => {
      const { fields, input } = sessionJob(req);
      return submit(req, reply, fields, input, 'session', sessionAnswer, false);
    },
  );

  app.post(
    '/api/session/process-async',
    {
      schema: {
        tags,
        summary: 'Queue a session job (always 202; result by webhook, SSE or GET /api/jobs/{id})',
        consumes: ['application/json'],
      },
    },
    async (req, reply) => {
      const { fields, input } = sessionJob(req);
      return submit(req, reply, fields, input, 'session', sessionAnswer, true);
    },
  );

  app.get(
    '/api/session/cached',
    {
      schema: {
        tags,
        summary: 'Cached sessions, flattened (filters: event, track, target_language)',
      },
    },
    async (req) => {
      const q = (req.query ?? {}) as Record<string, string | undefined>;
      const principal = req.principal ?? { admin: true, user_id: null };
      const sessions = (await listSessionCache(cacheDir))
        .filter(
          (e) => principal.admin || (principal.user_id !== null && e.user_id === principal.user_id),
        )
        .filter(
          (e) =>
            !q.event ||
            e.event === q.event ||
            sanitizePathPart(String(e.event)) === sanitizePathPart(q.event),
        )
        .filter((e) => !q.track || e.track === q.track)
        .filter(
          (e) => !q.target_language || e.target_language === normaliseLanguage(q.target_language),
        )
        .map((e) => {
          const rest: Record<string, unknown> = { ...e };
          delete rest.user_id;
          return {
            ...rest,
            archive_url: typeof rest.archive_url === 'string' ? url(rest.archive_url) : null,
          };
        });
      return { status: 'success', count: sessions.length, sessions };
    },
  );

  app.post(
    '/api/events/:event/summary',
    {
      schema: {
        tags,
        summary: 'Summary of an event from its cached sessions (waits without callback_url)',
        consumes: ['application/json'],
      },
    },
    async (req, reply) => {
      const event = (req.params as { event: string }).event;
      const body = bodyOf(req);
      const q = (req.query ?? {}) as Record<string, string | undefined>;
      const get = (k: string): unknown => body[k] ?? q[k];
      const useCacheRaw = get('use_cache') ?? get('useCache');
      const useCache =
        typeof useCacheRaw === 'boolean'
          ? useCacheRaw
          : typeof useCacheRaw === 'string'
            ? /^(1|true|yes|on)$/i.test(useCacheRaw)
            : false;
      const fields = transportFields({ ...q, ...body });
      const parameters = Object.fromEntries(
        Object.entries({
          event,
          template: get('template'),
          target_language: get('target_language'),
          use_cache: useCache,
          model: get('model'),
          provider: get('provider'),
        }).filter(([, v]) => v !== undefined && v !== null && v !== ''),
      );
      const input: NewJob = {
        job_type: 'event_summary',
        parameters,
        ...webhookFromFields(opts, fields),
      };
      if (registry.validate('event_summary', parameters).length === 0) {
        const lang =
          normaliseLanguage(
            typeof parameters.target_language === 'string' ? parameters.target_language : null,
          ) ?? 'de';
        const eventDir = sanitizePathPart(event);
        const found = await sessionRecordsOf(
          cacheDir,
          (e) => sanitizePathPart(e) === eventDir,
          lang,
        );
        if (!found.length) throw noSessionsError(event, lang);
      }
      return submit(
        req,
        reply,
        fields,
        input,
        'event',
        (job) => {
          const r = (job.results ?? {}) as Record<string, unknown>;
          const env = (r.envelope ?? {}) as Record<string, unknown>;
          const output = { ...r };
          delete output.envelope;
          return {
            status: 'success',
            request: env.request ?? { processor: 'event', timestamp: job.created_at },
            process: {
              ...((env.process as object) ?? {}),
              id: job.job_id,
              llm_info: job.llm_info ?? null,
            },
            error: null,
            data: { input: { event, ...parameters }, output, job_id: job.job_id },
          };
        },
        false,
      );
    },
  );
};
