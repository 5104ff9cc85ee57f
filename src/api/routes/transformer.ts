/**
 * The original's transformer endpoints (§3.6; client-contract §2.4), each a job underneath
 * (worker limits, restarts, retries apply):
 * - `POST /api/transformer/template` — JSON, multipart or `application/x-www-form-urlencoded`;
 * - `POST /api/transformer/text` — translate, summarise, reformat;
 * - `POST /api/transformer/chat` — JSON chat completion, optional `schema_json`.
 * With `callback_url`: the 202 ACK, the result by webhook. Without: the answer waits for the job
 * (`wait_ms` > 0 only shortens the wait; the real client sends `wait_ms: 0` and expects the
 * result) and is 200 `{status: 'success', data: {text, structured_data, language, format}}`, or
 * 4xx `{status: 'error', error}` — never an error wrapped in a success (the original's bug).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretaryError } from '../../core/errors.js';
import type { Job, NewJob } from '../../core/job.js';
import { resolveTemplatesDir, TemplateLibrary } from '../../processors/templates/index.js';
import { schemaProblems } from '../../processors/transformer/index.js';
import { checkTemplateExists } from '../../handlers/transformer/transformer-parameters.js';
import type { RouteOptions } from '../api-deps.js';
import { ackBody, answerWhenDone, webhookFromFields } from '../ingress.js';
import { boolField, intField, jsonObjectField, readIngressForm } from '../multipart-form.js';

const tags = ['transformer'];
const URLENCODED = 'application/x-www-form-urlencoded';
/** No field of these endpoints is a file; uploads are ignored. */
const NO_FILE = '\u0000';

const bad = (path: string, problem: string): SecretaryError =>
  new SecretaryError('INVALID_PARAMETERS', `${path.slice(1)}: ${problem}`, {
    details: [{ path, problem }],
  });

const strip = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));

const numberField = (f: Record<string, string>, name: string): number | undefined => {
  const v = f[name];
  if (v === undefined || v === '' || v === 'null') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw bad(`/${name}`, 'must be a number');
  return n;
};

/** A field that is JSON text of any shape (`messages` as an array or as a JSON string). */
const jsonField = (f: Record<string, string>, name: string): unknown => {
  const v = f[name];
  if (v === undefined || v === '' || v === 'null') return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    throw bad(`/${name}`, 'must be valid JSON');
  }
};

const stringMap = (f: Record<string, string>, name: string): Record<string, string> | undefined => {
  const o = jsonObjectField(f, name);
  if (!o) return undefined;
  for (const [k, v] of Object.entries(o))
    if (typeof v !== 'string') throw bad(`/${name}/${k}`, 'must be a string');
  return o as Record<string, string>;
};

const useCache = (f: Record<string, string>): boolean =>
  boolField(f, 'use_cache', boolField(f, 'useCache', true));

/** The synchronous answer of a finished transformer job. */
export const transformerEnvelope = (job: Job) => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  const env = (r.envelope ?? {}) as Record<string, unknown>;
  return {
    status: 'success',
    request: env.request ?? { processor: 'transformer', timestamp: job.created_at },
    process: { ...((env.process as object) ?? {}), id: job.job_id, llm_info: job.llm_info ?? null },
    error: null,
    data: {
      text: r.text ?? '',
      structured_data: r.structured_data ?? null,
      language: r.language ?? null,
      format: r.format ?? 'text',
      ...(r.warnings ? { warnings: r.warnings } : {}),
      ...(r.template !== undefined ? { template: r.template } : {}),
      job_id: job.job_id,
    },
  };
};

const submit = async (
  opts: RouteOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  fields: Record<string, string>,
  input: NewJob,
) => {
  const { store, registry, config } = opts.deps;
  const problems = registry.validate(input.job_type, input.parameters ?? {});
  if (problems.length)
    throw new SecretaryError('INVALID_PARAMETERS', 'invalid parameters', { details: problems });
  const { job } = await store.createJob({ ...input, user_id: req.principal?.user_id ?? null });
  const webhookUrl = input.webhook?.url ?? null;
  if (webhookUrl) return reply.code(202).send(ackBody(job, 'transformer', webhookUrl));
  const asked = intField(fields, 'wait_ms') ?? 0;
  const waitMs = asked > 0 ? Math.min(asked, config.server.max_wait_ms) : config.server.max_wait_ms;
  return answerWhenDone(opts, req, reply, job, {
    waitMs,
    processor: 'transformer',
    success: transformerEnvelope,
  });
};

export const transformerRoutes = async (
  app: FastifyInstance,
  opts: RouteOptions,
): Promise<void> => {
  const { config } = opts.deps;
  const cacheDir = config.paths.cache_dir;
  const templates = new TemplateLibrary(
    resolveTemplatesDir(config.processors.templates.dir, config.paths.home),
  );
  if (!app.hasContentTypeParser(URLENCODED)) {
    app.addContentTypeParser(URLENCODED, { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
  }
  const schema = (summary: string, consumes: string[]) => ({ schema: { tags, summary, consumes } });
  const forms = ['application/json', 'multipart/form-data', URLENCODED];

  app.post(
    '/api/transformer/template',
    schema(
      'Fill a template from a text or a web page (waits for the result without callback_url)',
      forms,
    ),
    async (req, reply) => {
      const { fields: f } = await readIngressForm(req, cacheDir, NO_FILE);
      const parameters = strip({
        text: f.text,
        url: f.url?.trim(),
        template: f.template,
        template_content: f.template_content,
        source_language: f.source_language,
        target_language: f.target_language,
        context: jsonObjectField(f, 'context'),
        additional_field_descriptions: stringMap(f, 'additional_field_descriptions'),
        use_cache: useCache(f),
        container_selector: f.container_selector,
        model: f.model,
        provider: f.provider,
      });
      // an unknown template is a 404 with close names (when it is the only problem)
      const problems = opts.deps.registry.validate('transformer', parameters);
      if (problems.length === 1 && problems[0]!.path === '/parameters/template')
        checkTemplateExists(templates, parameters);
      return submit(opts, req, reply, f, {
        job_type: 'transformer',
        parameters,
        ...webhookFromFields(opts, f),
      });
    },
  );

  app.post(
    '/api/transformer/text',
    schema('Translate, summarise or reformat a text', forms),
    async (req, reply) => {
      const { fields: f } = await readIngressForm(req, cacheDir, NO_FILE);
      const parameters = strip({
        text: f.text,
        source_language: f.source_language,
        target_language: f.target_language,
        summarize: boolField(f, 'summarize', false),
        target_format: f.target_format,
        context: jsonObjectField(f, 'context'),
        use_cache: useCache(f),
        model: f.model,
        provider: f.provider,
      });
      return submit(opts, req, reply, f, {
        job_type: 'transformer_text',
        parameters,
        ...webhookFromFields(opts, f),
      });
    },
  );

  app.post(
    '/api/transformer/chat',
    schema('Chat completion (optionally JSON checked against schema_json)', forms),
    async (req, reply) => {
      const { fields: f } = await readIngressForm(req, cacheDir, NO_FILE);
      const schemaJson = jsonField(f, 'schema_json');
      if (schemaJson !== undefined) {
        const problems = schemaProblems(schemaJson);
        if (problems.length || typeof schemaJson !== 'object' || Array.isArray(schemaJson)) {
          throw new SecretaryError(
            'INVALID_PARAMETERS',
            'schema_json is not a usable JSON schema',
            {
              details: (problems.length ? problems : ['/: must be an object']).map((p) => ({
                path: `/schema_json${p.split(':')[0]}`,
                problem: p,
              })),
            },
          );
        }
      }
      const parameters = strip({
        messages: jsonField(f, 'messages'),
        response_format: f.response_format,
        schema_json: schemaJson,
        schema_id: f.schema_id,
        strict: f.strict === undefined ? undefined : boolField(f, 'strict', true),
        stream: f.stream === undefined ? undefined : boolField(f, 'stream', false),
        temperature: numberField(f, 'temperature'),
        max_tokens: numberField(f, 'max_tokens'),
        timeout_ms: numberField(f, 'timeout_ms'),
        use_cache: useCache(f),
        model: f.model,
        provider: f.provider,
      });
      return submit(opts, req, reply, f, {
        job_type: 'transformer_chat',
        parameters,
        ...webhookFromFields(opts, f),
      });
    },
  );
};
