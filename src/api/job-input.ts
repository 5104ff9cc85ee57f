/**
 * Turns a request's job object into a `NewJob`, checking everything before anything is
 * stored: shape of the known top-level fields, the webhook, and the parameters against the
 * schema the job type registered (`registry.validate`). Unknown parameter keys are kept.
 *
 * The client's id for the job (`external_id`) may come as `external_id`, `jobId`,
 * `webhook.jobId` or `parameters.webhook.jobId` (the original's form). A webhook given inside
 * `parameters.webhook` (seed 002) is moved to the job's `webhook`, so its token is stored
 * only where the API redacts it.
 */
import type { NewJob, WebhookConfig } from '../core/job.js';
import type { HandlerRegistry, ParameterProblem } from '../worker/registry.js';
import type { Principal } from './api-deps.js';
import { validateWebhookUrl, type GuardOptions } from '../net/url-guard.js';

export interface JobInputResult {
  job: NewJob | null;
  problems: ParameterProblem[];
  /** True when a problem is an unregistered `job_type` (answered as UNKNOWN_JOB_TYPE). */
  unknownType: boolean;
}

type Obj = Record<string, unknown>;

/** Deepest nesting accepted in `parameters` (deeper inputs are refused, not stored). */
export const MAX_PARAMETER_DEPTH = 64;

/** True when `value` nests objects/arrays deeper than `limit` (iterative: no stack overflow). */
export const nestsDeeperThan = (value: unknown, limit: number): boolean => {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d >= limit) return true;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return false;
};
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

export const parseWebhook = (raw: unknown, path: string, problems: ParameterProblem[], guard?: GuardOptions): WebhookConfig | null => {
  if (raw === undefined || raw === null) return null;
  if (!isObj(raw)) {
    problems.push({ path, problem: 'must be an object with a url' });
    return null;
  }
  const url = raw.url;
  let ok = false;
  if (isStr(url, 2048)) {
    try {
      const u = new URL(url);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
  }
  if (!ok) problems.push({ path: `${path}/url`, problem: 'must be an absolute http(s) URL of at most 2048 characters' });
  else if (guard) {
    try {
      validateWebhookUrl(String(url), guard);
    } catch (err) {
      problems.push({ path: `${path}/url`, problem: (err as Error).message });
    }
  }
  const token = raw.token ?? null;
  if (token !== null && !isStr(token, 4096)) problems.push({ path: `${path}/token`, problem: 'must be a string' });
  const headers = raw.headers ?? null;
  if (headers !== null && (!isObj(headers) || Object.values(headers).some((v) => typeof v !== 'string'))) {
    problems.push({ path: `${path}/headers`, problem: 'must be an object of string values' });
  }
  const delivery = raw.delivery;
  if (delivery !== undefined && delivery !== 'at_most_once' && delivery !== 'at_least_once') {
    problems.push({ path: `${path}/delivery`, problem: 'must be at_most_once or at_least_once' });
  }
  for (const k of ['include_markdown', 'include_metadata'] as const) {
    if (raw[k] !== undefined && typeof raw[k] !== 'boolean') problems.push({ path: `${path}/${k}`, problem: 'must be a boolean' });
  }
  return {
    url: String(url),
    token: (token as string | null) ?? null,
    headers: (headers as Record<string, string> | null) ?? null,
    ...(typeof raw.include_markdown === 'boolean' ? { include_markdown: raw.include_markdown } : {}),
    ...(typeof raw.include_metadata === 'boolean' ? { include_metadata: raw.include_metadata } : {}),
    ...(delivery ? { delivery: delivery as WebhookConfig['delivery'] } : {}),
  };
};

const optionalString = (raw: Obj, key: string, max: number, prefix: string, problems: ParameterProblem[]): string | null => {
  const v = raw[key];
  if (v === undefined || v === null) return null;
  if (!isStr(v, max)) {
    problems.push({ path: `${prefix}/${key}`, problem: `must be a string of 1..${max} characters` });
    return null;
  }
  return v;
};

const optionalInt = (raw: Obj, key: string, min: number, max: number, prefix: string, problems: ParameterProblem[]): number | undefined => {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.push({ path: `${prefix}/${key}`, problem: `must be an integer in ${min}..${max}` });
    return undefined;
  }
  return v;
};

/** Parses one job object; `prefix` is the JSON pointer of the object in the request (`''` or `/jobs/3`). */
export const parseJobInput = (raw: unknown, prefix: string, registry: HandlerRegistry, principal: Principal, guard?: GuardOptions): JobInputResult => {
  const problems: ParameterProblem[] = [];
  if (!isObj(raw)) return { job: null, problems: [{ path: prefix || '/', problem: 'must be a JSON object' }], unknownType: false };
  const jobType = raw.job_type;
  if (!isStr(jobType, 64)) {
    return { job: null, problems: [{ path: `${prefix}/job_type`, problem: 'required: a string of 1..64 characters' }], unknownType: false };
  }
  if (!registry.has(jobType)) {
    const known = registry.types().join(', ');
    return {
      job: null,
      problems: [{ path: `${prefix}/job_type`, problem: `unknown job_type ${JSON.stringify(jobType)}; registered: ${known}` }],
      unknownType: true,
    };
  }
  let parameters: Obj = {};
  if (raw.parameters !== undefined && raw.parameters !== null) {
    if (!isObj(raw.parameters)) problems.push({ path: `${prefix}/parameters`, problem: 'must be an object' });
    else if (nestsDeeperThan(raw.parameters, MAX_PARAMETER_DEPTH)) {
      return { job: null, problems: [{ path: `${prefix}/parameters`, problem: `nested deeper than ${MAX_PARAMETER_DEPTH} levels` }], unknownType: false };
    } else parameters = raw.parameters;
  }
  let webhookRaw = raw.webhook;
  let webhookPath = `${prefix}/webhook`;
  const paramWebhook = parameters.webhook;
  if ((webhookRaw === undefined || webhookRaw === null) && isObj(paramWebhook) && typeof paramWebhook.url === 'string') {
    webhookRaw = paramWebhook;
    webhookPath = `${prefix}/parameters/webhook`;
    parameters = Object.fromEntries(Object.entries(parameters).filter(([k]) => k !== 'webhook'));
  }
  const webhook = parseWebhook(webhookRaw, webhookPath, problems, guard);
  const hookObj = isObj(webhookRaw) ? webhookRaw : {};
  const externalId =
    optionalString(raw, 'external_id', 200, prefix, problems) ??
    optionalString(raw, 'jobId', 200, prefix, problems) ??
    optionalString(hookObj, 'jobId', 200, webhookPath, problems);
  const userId = optionalString(raw, 'user_id', 200, prefix, problems);
  const batchId = optionalString(raw, 'batch_id', 200, prefix, problems);
  const priority = optionalInt(raw, 'priority', -1000, 1000, prefix, problems);
  const maxAttempts = optionalInt(raw, 'max_attempts', 1, 100, prefix, problems);
  let runAt: string | null = null;
  if (raw.run_at !== undefined && raw.run_at !== null) {
    const t = typeof raw.run_at === 'string' && raw.run_at.length <= 64 ? Date.parse(raw.run_at) : NaN;
    if (Number.isNaN(t)) problems.push({ path: `${prefix}/run_at`, problem: 'must be an ISO-8601 instant' });
    else runAt = new Date(t).toISOString();
  }
  for (const p of registry.validate(jobType, parameters)) problems.push({ path: `${prefix}${p.path}`, problem: p.problem });
  if (problems.length > 0) return { job: null, problems, unknownType: false };
  const job: NewJob = {
    job_type: jobType,
    parameters,
    webhook,
    user_id: principal.admin ? userId : principal.user_id,
    external_id: externalId,
    ...(batchId ? { batch_id: batchId } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(maxAttempts !== undefined ? { max_attempts: maxAttempts } : {}),
    ...(runAt ? { run_at: runAt } : {}),
  };
  if (maxAttempts === undefined) {
    const def = registry.get(jobType);
    if (def?.maxAttempts) job.max_attempts = def.maxAttempts;
  }
  return { job, problems: [], unknownType: false };
};
