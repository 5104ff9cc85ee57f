/**
 * The `event_summary` job type (original `POST /api/events/{event}/summary`, §3.7): the cached
 * sessions of one event and language (made by `session` jobs) → one summary from the
 * `<template>_<lang>` template (default `Event_eco_social`, shipped in `templates/`), written
 * to `sessions/<event>/<lang>/event_summary.md`. With `use_cache` (default false, as the
 * original's `useCache`) the same sessions, template and language answer from
 * `cache/event_summary/<key>.json`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Type, { type TSchema } from 'typebox';
import { UnrecoverableError, type SecretaryError } from '../../core/errors.js';
import type { Job } from '../../core/job.js';
import { normaliseLanguage } from '../../processors/llm/index.js';
import {
  eventSummaryInput,
  sanitizePathPart,
  stepFailure,
} from '../../processors/session/index.js';
import type { TemplateLibrary } from '../../processors/templates/index.js';
import type { HandlerContext, JobTypeDefinition, ParameterProblem } from '../../worker/registry.js';
import { modelCallOf, transformerFor } from '../shared/transformer.js';
import { sessionRecordsOf } from './session-cache.js';
import { sessionsBaseDir } from './session-handler.js';
import { problemsOf } from './session-parameters.js';
import type { SessionDeps } from './session-steps.js';

export const DEFAULT_EVENT_TEMPLATE = 'Event_eco_social';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

export const eventSummaryParameters = Type.Object(
  {
    event: Type.String({ minLength: 1, maxLength: 1000 }),
    template: nullable(Type.String({ maxLength: 300 })),
    target_language: nullable(Type.String({ maxLength: 20 })),
    use_cache: nullable(Type.Boolean()),
    model: nullable(Type.String({ maxLength: 200 })),
    provider: nullable(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: true },
);

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

export const eventSummaryOptions = (p: Record<string, unknown>) => ({
  event: str(p.event) ?? '',
  template: str(p.template)?.replace(/\.md$/i, '') ?? DEFAULT_EVENT_TEMPLATE,
  targetLanguage: normaliseLanguage(str(p.target_language)) ?? 'de',
  useCache: p.use_cache === true,
  model: str(p.model),
  provider: str(p.provider),
});

export const validateEventSummaryParameters =
  (templates: TemplateLibrary) =>
  (p: Record<string, unknown>): ParameterProblem[] => {
    const o = eventSummaryOptions(p);
    const problems: ParameterProblem[] = [];
    if (!sanitizePathPart(o.event) || o.event.split(/[/\\]/).some((s) => s.trim() === '..')) {
      problems.push({
        path: '/event',
        problem: 'must be an event name (no ".." path segments, some usable characters)',
      });
    }
    const lang = str(p.target_language);
    if (lang && !/^[a-z]{2}([-_][a-z]{2})?$/i.test(lang))
      problems.push({ path: '/target_language', problem: 'an ISO 639-1 code such as de or en' });
    if (!problems.length) {
      try {
        templates.resolve(o.template, o.targetLanguage);
      } catch (err) {
        problems.push(...problemsOf(err, '/template'));
      }
    }
    return problems;
  };

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** No processed sessions for the event: a 404 that says what to do. */
export const noSessionsError = (event: string, lang: string): SecretaryError =>
  new UnrecoverableError(
    `no processed sessions of event ${JSON.stringify(event)} in language ${lang}; process its sessions first (job type session, or POST /api/session/process), then ask for the summary again`,
    'NOT_FOUND',
    { event, target_language: lang, step: 'collect_sessions' },
  );

export const runEventSummaryJob = async (
  deps: SessionDeps,
  job: Job,
  ctx: HandlerContext,
): Promise<Record<string, unknown>> => {
  const { config } = deps;
  const o = eventSummaryOptions(job.parameters);
  const transformer = transformerFor(deps);
  ctx.progress('initializing', 5, 'Sessions werden gesammelt');
  const template = transformer.loadTemplate({
    template: o.template,
    targetLanguage: o.targetLanguage,
  });
  const eventDir = sanitizePathPart(o.event);
  const records = await sessionRecordsOf(
    config.paths.cache_dir,
    (e) => sanitizePathPart(e) === eventDir,
    o.targetLanguage,
  );
  if (!records.length) throw noSessionsError(o.event, o.targetLanguage);
  const entries = records.map((r) => ({
    track: r.input.track,
    session: r.input.session,
    markdown_file: r.output.markdown_file,
    structured_data: r.output.structured_data,
    markdown_content: r.output.markdown_content,
  }));
  const summaryInput = eventSummaryInput(o.event, o.targetLanguage, entries);
  ctx.log(
    'info',
    `${records.length} session(s) in ${summaryInput.context.track_count} track(s); ${summaryInput.included} fit the input`,
  );
  const cacheKey = sha256(
    JSON.stringify([
      o.event,
      o.targetLanguage,
      template.content,
      o.model,
      o.provider,
      records.map((r) => `${r.cache_key}:${r.fingerprint}:${r.created_at}`).sort(),
    ]),
  );
  const cachePath = join(config.paths.cache_dir, 'event_summary', `${cacheKey}.json`);
  const markdownRel = `${eventDir}/${sanitizePathPart(o.targetLanguage)}/event_summary.md`;
  const markdownAbs = join(
    sessionsBaseDir(config),
    eventDir,
    sanitizePathPart(o.targetLanguage),
    'event_summary.md',
  );

  let result: {
    markdown: string;
    structured_data: Record<string, unknown>;
    template: string | null;
  } | null = null;
  let fromCache = false;
  if (o.useCache && existsSync(cachePath) && existsSync(markdownAbs)) {
    result = JSON.parse(await readFile(cachePath, 'utf8')) as typeof result;
    fromCache = true;
    ctx.log('info', `cache hit ${cacheKey.slice(0, 16)}…`);
  }
  if (!result) {
    ctx.progress('template', 30, `Template ${template.name ?? o.template} wird ausgefüllt`);
    try {
      const r = await transformer.template(
        {
          text: summaryInput.text,
          templateContent: template.content,
          context: summaryInput.context,
          targetLanguage: o.targetLanguage,
        },
        modelCallOf(
          ctx,
          ctx.usage,
          { model: o.model, provider: o.provider, use_cache: o.useCache },
          false,
        ),
      );
      result = { markdown: r.text, structured_data: r.structured_data, template: template.name };
    } catch (err) {
      throw stepFailure('template', err, ctx.signal);
    }
    ctx.progress('write_markdown', 90, 'Zusammenfassung wird geschrieben');
    await mkdir(join(config.paths.cache_dir, 'event_summary'), { recursive: true });
    await mkdir(join(markdownAbs, '..'), { recursive: true });
    const tmp = `${markdownAbs}.tmp-${randomUUID()}`;
    await writeFile(tmp, result.markdown, 'utf8');
    await rename(tmp, markdownAbs);
    await writeFile(`${cachePath}.tmp`, JSON.stringify(result));
    await rename(`${cachePath}.tmp`, cachePath);
  }
  ctx.progress('postprocessing', 96, 'Ergebnis wird gespeichert');
  return {
    event: o.event,
    target_language: o.targetLanguage,
    template: result.template,
    markdown_file: `sessions/${markdownRel}`,
    markdown_content: result.markdown,
    structured_data: result.structured_data,
    session_count: records.length,
    included_sessions: summaryInput.included,
    tracks: summaryInput.context.tracks,
    is_from_cache: fromCache,
    cache_key: cacheKey,
    envelope: {
      status: 'success',
      request: {
        processor: 'event',
        timestamp: new Date().toISOString(),
        parameters: { event: o.event, template: o.template, target_language: o.targetLanguage },
      },
      process: {
        id: job.job_id,
        main_processor: 'EventProcessor',
        sub_processors: ['TransformerProcessor'],
        is_from_cache: fromCache,
        cache_key: cacheKey,
      },
    },
  };
};

/** `completed` data: the event, its summary and the session counts. */
export const eventSummaryCallbackData = (job: Job): Record<string, unknown> => {
  const r = (job.results ?? {}) as Record<string, unknown>;
  const keys = [
    'event',
    'target_language',
    'template',
    'markdown_file',
    'markdown_content',
    'structured_data',
    'session_count',
    'included_sessions',
    'tracks',
    'is_from_cache',
  ];
  return { output: Object.fromEntries(keys.map((k) => [k, r[k] ?? null])) };
};

export const eventSummaryJobType = (deps: SessionDeps): JobTypeDefinition => ({
  type: 'event_summary',
  description:
    'Summary of an event from its processed sessions (one language) through an Event template (default Event_eco_social).',
  parameters: eventSummaryParameters,
  validate: validateEventSummaryParameters(transformerFor(deps).templates),
  handler: (job, ctx) => runEventSummaryJob(deps, job, ctx),
  callbackData: (job: Job) => eventSummaryCallbackData(job),
});
