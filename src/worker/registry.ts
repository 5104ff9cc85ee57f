/**
 * The handler registry: `job_type → definition`. A definition carries the handler, the
 * parameter schema (validated at enqueue by the API, so a bad job is never stored) and
 * per-type defaults (timeout, attempts, concurrency).
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ClaimedJob, Job, LlmRequest, LogLevel } from '../core/job.js';

export interface UsageRecorder {
  /** Records one LLM/OCR/transcription request (the seeds' `llm_info.requests[]`). */
  record(req: Omit<LlmRequest, 'timestamp'> & { timestamp?: string }): void;
}

export interface HandlerContext {
  /** Aborted on timeout (`PROCESSING_TIMEOUT`), cancel, lost lease and shutdown. */
  readonly signal: AbortSignal;
  /** Reports progress; throttled and monotonic, never throws. */
  progress(step: string, percent: number, message?: string | null): void;
  /** Appends to the job's log; never throws. */
  log(level: LogLevel, message: string): void;
  readonly usage: UsageRecorder;
  /** 1 for the first run. */
  readonly attempt: number;
  readonly workerId: string;
}

export type HandlerResult = Record<string, unknown> | void;

export type JobHandler<P = Record<string, unknown>> = (
  job: ClaimedJob & { parameters: P },
  ctx: HandlerContext,
) => Promise<HandlerResult>;

export interface JobTypeDefinition<P = Record<string, unknown>> {
  type: string;
  handler: JobHandler<P>;
  /** JSON schema (TypeBox) of `parameters`; unknown keys must stay allowed (seeds' `extra`). */
  parameters?: TSchema;
  /** Extra checks beyond the schema; returns problems (empty: valid). */
  validate?: (params: Record<string, unknown>) => ParameterProblem[];
  /** Handler time limit in seconds (config `timeout_sec_per_type` wins). */
  timeoutSec?: number;
  /** Default per-process concurrency for this type (config `max_concurrent_per_type` wins). */
  concurrency?: number;
  /** Default attempts for jobs of this type when the request does not say. */
  maxAttempts?: number;
  /** One-line description for docs and the OpenAPI page. */
  description?: string;
  /**
   * The `data` of this type's `completed` callback and SSE event, as the real client reads it
   * (client-contract §3.4), built from the stored job. Default: the job's `results`.
   * `url(path)` makes an API path absolute when a public base URL is configured.
   */
  callbackData?: (job: Job, url: (path: string) => string) => Record<string, unknown>;
}

export interface ParameterProblem {
  path: string;
  problem: string;
}

interface Entry {
  def: JobTypeDefinition;
  check?: ReturnType<typeof Compile>;
}

export class HandlerRegistry {
  private readonly entries = new Map<string, Entry>();

  register<P>(def: JobTypeDefinition<P>): this {
    if (!/^[a-z][a-z0-9_:-]{0,63}$/.test(def.type)) throw new Error(`invalid job_type name: ${def.type}`);
    if (this.entries.has(def.type)) throw new Error(`job_type already registered: ${def.type}`);
    const entry: Entry = { def: def as unknown as JobTypeDefinition };
    if (def.parameters) entry.check = Compile(def.parameters);
    this.entries.set(def.type, entry);
    return this;
  }

  get(type: string): JobTypeDefinition | undefined {
    return this.entries.get(type)?.def;
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  types(): string[] {
    return [...this.entries.keys()];
  }

  definitions(): JobTypeDefinition[] {
    return [...this.entries.values()].map((e) => e.def);
  }

  /** Validates parameters of a registered type; unknown types answer with one problem. */
  validate(type: string, params: unknown): ParameterProblem[] {
    const entry = this.entries.get(type);
    if (!entry) return [{ path: '/job_type', problem: `unknown job_type ${JSON.stringify(type)}` }];
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      return [{ path: '/parameters', problem: 'must be an object' }];
    }
    const problems: ParameterProblem[] = [];
    if (entry.check && !entry.check.Check(params)) {
      for (const e of entry.check.Errors(params)) {
        problems.push({ path: `/parameters${e.instancePath}`, problem: e.message });
        if (problems.length >= 20) break;
      }
    }
    if (problems.length === 0 && entry.def.validate) {
      problems.push(...entry.def.validate(params as Record<string, unknown>).map((p) => ({ ...p, path: `/parameters${p.path}` })));
    }
    return problems;
  }
}
