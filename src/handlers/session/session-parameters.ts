/**
 * Parameters of the `session` job type (original §3.7, seed 001), validated at enqueue. Every
 * key may also come inside `extra` (seed 001 sends `extra: {create_archive, template}`); a
 * top-level key wins over the same key in `extra`. Required: `event`, `session`, `url`,
 * `track` (each missing one is named); `filename` is derived from the session title when
 * absent. Path parts with a `..` segment are refused; the template must exist.
 */
import Type, { type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { SecretaryConfig } from '../../config/defaults.js';
import { SecretaryError } from '../../core/errors.js';
import { normaliseLanguage } from '../../processors/llm/index.js';
import { pathProblems, type SessionInput } from '../../processors/session/index.js';
import type { TemplateLibrary } from '../../processors/templates/index.js';
import type { ParameterProblem } from '../../worker/registry.js';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const text = (max: number) => nullable(Type.String({ maxLength: max }));
const list = nullable(
  Type.Union([
    Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 500 }),
    Type.String({ maxLength: 20_000 }),
  ]),
);

export const DEFAULT_SESSION_TEMPLATE = 'Session';
export const REQUIRED_SESSION_FIELDS = ['event', 'session', 'url', 'track'] as const;

const fields = {
  event: text(1000),
  session: text(2000),
  url: text(8192),
  filename: text(1000),
  track: text(1000),
  day: text(100),
  starttime: text(100),
  endtime: text(100),
  speakers: list,
  speakers_url: list,
  speakers_image_url: list,
  video_url: text(8192),
  video_transcript: text(5_000_000),
  attachments_url: text(8192),
  source_language: text(20),
  target_language: text(20),
  target: text(1000),
  template: text(300),
  use_cache: nullable(Type.Boolean()),
  force_refresh: nullable(Type.Boolean()),
  create_archive: nullable(Type.Boolean()),
  model: text(200),
  provider: text(100),
};

export const sessionParameters = Type.Object(
  { ...fields, extra: nullable(Type.Object({}, { additionalProperties: true })) },
  { additionalProperties: true },
);

const mergedCheck = Compile(Type.Object(fields, { additionalProperties: true }));

/** The parameters with `extra` folded in (top-level keys win), `extra` itself removed. */
export const mergedSessionParameters = (p: Record<string, unknown>): Record<string, unknown> => {
  const extra =
    typeof p.extra === 'object' && p.extra !== null && !Array.isArray(p.extra)
      ? (p.extra as Record<string, unknown>)
      : {};
  const out: Record<string, unknown> = { ...extra };
  for (const [k, v] of Object.entries(p))
    if (k !== 'extra' && v !== undefined && v !== null) out[k] = v;
  return out;
};

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);
const strList = (v: unknown): string[] => {
  if (Array.isArray(v))
    return v
      .filter((x): x is string => typeof x === 'string' && x.trim() !== '')
      .map((x) => x.trim());
  const s = str(v);
  return s ? [s] : [];
};
const bool = (v: unknown, fallback: boolean): boolean => (typeof v === 'boolean' ? v : fallback);

export interface SessionJobOptions {
  useCache: boolean;
  force: boolean;
  model: string | null;
  provider: string | null;
}

/** The pipeline's input from a job's parameters (defaults: en → de, template Session, archive on). */
export const sessionInputOf = (
  params: Record<string, unknown>,
): { input: SessionInput; options: SessionJobOptions } => {
  const p = mergedSessionParameters(params);
  return {
    input: {
      event: str(p.event) ?? '',
      session: str(p.session) ?? '',
      url: str(p.url) ?? '',
      filename: str(p.filename),
      track: str(p.track) ?? '',
      day: str(p.day),
      starttime: str(p.starttime),
      endtime: str(p.endtime),
      speakers: strList(p.speakers),
      speakers_url: strList(p.speakers_url),
      speakers_image_url: strList(p.speakers_image_url),
      video_url: str(p.video_url),
      video_transcript: str(p.video_transcript),
      attachments_url: str(p.attachments_url),
      source_language: normaliseLanguage(str(p.source_language)) ?? 'en',
      target_language: normaliseLanguage(str(p.target_language)) ?? 'de',
      target: str(p.target),
      template: str(p.template)?.replace(/\.md$/i, '') ?? DEFAULT_SESSION_TEMPLATE,
      create_archive: bool(p.create_archive, true),
    },
    options: {
      useCache: bool(p.use_cache, true),
      force: bool(p.force_refresh, false),
      model: str(p.model),
      provider: str(p.provider),
    },
  };
};

const isHttpUrl = (v: string): boolean => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

const LANGUAGE = /^[a-z]{2}([-_][a-z]{2})?$/i;

/** The `{path, problem}` details of a `SecretaryError`, or its message at `path`. */
export const problemsOf = (err: unknown, path: string): ParameterProblem[] => {
  if (err instanceof SecretaryError) {
    const d = (err.details as { details?: ParameterProblem[] } | null)?.details;
    return Array.isArray(d) ? d : [{ path, problem: err.message }];
  }
  return [{ path, problem: err instanceof Error ? err.message : String(err) }];
};

export const validateSessionParameters =
  (config: SecretaryConfig, templates: TemplateLibrary) =>
  (params: Record<string, unknown>): ParameterProblem[] => {
    const p = mergedSessionParameters(params);
    const problems: ParameterProblem[] = [];
    if (!mergedCheck.Check(p)) {
      for (const e of mergedCheck.Errors(p)) {
        problems.push({ path: e.instancePath || '/', problem: e.message });
        if (problems.length >= 20) return problems;
      }
      return problems;
    }
    for (const k of REQUIRED_SESSION_FIELDS) {
      if (!str(p[k])) problems.push({ path: `/${k}`, problem: 'required: a non-empty string' });
    }
    for (const k of ['url', 'video_url', 'attachments_url'] as const) {
      const v = str(p[k]);
      if (v && !isHttpUrl(v)) problems.push({ path: `/${k}`, problem: 'must be an http(s) URL' });
    }
    const target = str(p.target_language);
    if (target && !LANGUAGE.test(target))
      problems.push({ path: '/target_language', problem: 'an ISO 639-1 code such as de or en' });
    const source = str(p.source_language);
    if (source && source.toLowerCase() !== 'auto' && !LANGUAGE.test(source)) {
      problems.push({
        path: '/source_language',
        problem: 'an ISO 639-1 code such as de or en, or auto',
      });
    }
    const { input } = sessionInputOf(params);
    problems.push(
      ...pathProblems({
        event: input.event,
        track: input.track,
        targetLanguage: input.target_language,
        filename: input.filename,
        session: input.session,
      }),
    );
    const provider = str(p.provider);
    if (provider && !(provider in config.llm.providers)) {
      problems.push({
        path: '/provider',
        problem: `unknown provider; configured: ${Object.keys(config.llm.providers).join(', ')}`,
      });
    }
    if (problems.length === 0) {
      try {
        templates.resolve(input.template, input.target_language);
      } catch (err) {
        problems.push(...problemsOf(err, '/template'));
      }
    }
    return problems;
  };
