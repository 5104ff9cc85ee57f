/**
 * A chat completion for the original's `/transformer/chat`: the client's messages as given,
 * optionally JSON (`response_format: json_object`), optionally checked against a JSON schema
 * (`schema_json`). The schema is checked with TypeBox's interpreter (`typebox/value`, no code
 * generated from client input). A reply that is not JSON or breaks the schema is sampled once
 * more; then it fails with `LLM_BAD_RESPONSE` or `SCHEMA_VALIDATION_ERROR` (with `strict`,
 * the default for JSON), or is returned with warnings (`strict: false`).
 */
import { Value } from 'typebox/value';
import { SecretaryError, UnrecoverableError } from '../../core/errors.js';
import type { ModelGateway } from '../llm/model-gateway.js';
import type { ChatMessage, ResponseFormat } from '../llm/types.js';
import { JsonReplyError } from '../templates/json-repair.js';
import { callForJson, callRecord, type CallRecord } from './json-call.js';
import type { ModelCall } from './template-transform.js';

export interface ChatTransformInput {
  messages: ChatMessage[];
  responseFormat: 'text' | 'json_object';
  schema?: Record<string, unknown> | null;
  /** Fail on a schema mismatch (default true for JSON). */
  strict?: boolean | null;
  maxTokens?: number | null;
  /** Whole call, retries included. */
  timeoutMs?: number | null;
}

export interface ChatTransformResult {
  text: string;
  structured_data: Record<string, unknown> | null;
  language: string;
  format: 'text';
  warnings: string[];
  calls: CallRecord[];
}

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/** Problems of the schema itself (the interpreter accepts unknown keywords silently). */
export const schemaProblems = (schema: unknown, path = ''): string[] => {
  if (typeof schema === 'boolean') return [];
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return [`${path || '/'}: a schema must be an object or a boolean`];
  }
  const s = schema as Record<string, unknown>;
  const out: string[] = [];
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  for (const t of types) {
    if (typeof t !== 'string' || !JSON_TYPES.has(t))
      out.push(`${path}/type: unknown type ${JSON.stringify(t)}`);
  }
  for (const k of ['properties', 'definitions', '$defs', 'patternProperties']) {
    const m = s[k];
    if (m === undefined) continue;
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      out.push(`${path}/${k}: must be an object`);
    else
      for (const [name, sub] of Object.entries(m))
        out.push(...schemaProblems(sub, `${path}/${k}/${name}`));
  }
  for (const k of ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains']) {
    if (s[k] !== undefined && !Array.isArray(s[k]))
      out.push(...schemaProblems(s[k], `${path}/${k}`));
  }
  for (const k of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) {
    if (s[k] === undefined) continue;
    if (!Array.isArray(s[k])) out.push(`${path}/${k}: must be an array`);
    else
      (s[k] as unknown[]).forEach((sub, i) =>
        out.push(...schemaProblems(sub, `${path}/${k}/${i}`)),
      );
  }
  if (
    s.required !== undefined &&
    (!Array.isArray(s.required) || s.required.some((r) => typeof r !== 'string'))
  ) {
    out.push(`${path}/required: must be an array of strings`);
  }
  return out.slice(0, 20);
};

/** `{path, problem}` for each place the value breaks the schema (at most 20). */
export const schemaErrors = (
  schema: Record<string, unknown>,
  value: unknown,
): Array<{ path: string; problem: string }> => {
  const out: Array<{ path: string; problem: string }> = [];
  for (const e of Value.Errors(schema as never, value)) {
    out.push({ path: e.instancePath || '/', problem: e.message });
    if (out.length >= 20) break;
  }
  return out;
};

const mentionsJson = (messages: ChatMessage[]): boolean =>
  messages.some((m) =>
    typeof m.content === 'string'
      ? /json/i.test(m.content)
      : m.content.some((p) => p.type === 'text' && /json/i.test(p.text)),
  );

export const transformChat = async (
  gateway: ModelGateway,
  input: ChatTransformInput,
  call: ModelCall,
  opts: { temperature: number },
): Promise<ChatTransformResult> => {
  const signals = [
    call.signal,
    input.timeoutMs ? AbortSignal.timeout(input.timeoutMs) : null,
  ].filter((s): s is AbortSignal => Boolean(s));
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const base = {
    purpose: 'chat_completion',
    processor: 'TransformerProcessor',
    signal,
    provider: call.provider,
    model: call.model,
    useCache: call.useCache,
    usage: call.usage,
    maxTokens: input.maxTokens ?? null,
  };
  const temperature = call.temperature ?? opts.temperature;
  const timedOut = (err: unknown): never => {
    if (input.timeoutMs && signal?.aborted && !call.signal?.aborted) {
      throw new UnrecoverableError(
        `the chat call took longer than timeout_ms (${input.timeoutMs} ms); raise timeout_ms or shorten the messages`,
        'LLM_REQUEST_FAILED',
        { timeout_ms: input.timeoutMs },
      );
    }
    throw err;
  };
  const result = { language: '', format: 'text' as const, warnings: [] as string[] };
  if (input.responseFormat === 'text') {
    const res = await gateway
      .chat('chat', { ...base, messages: input.messages, temperature })
      .catch(timedOut);
    return { ...result, text: res.text, structured_data: null, calls: [callRecord(res)] };
  }
  const schema = input.schema ?? null;
  const strict = input.strict ?? true;
  const messages: ChatMessage[] = [...input.messages];
  if (schema) {
    messages.push({
      role: 'system',
      content: `Reply with one JSON object that follows this JSON schema:\n${JSON.stringify(schema)}`,
    });
  } else if (!mentionsJson(messages)) {
    messages.push({ role: 'system', content: 'Reply with one JSON object.' });
  }
  const responseFormat: ResponseFormat = schema
    ? { type: 'json_schema', name: 'response', schema, strict: false }
    : { type: 'json_object' };
  let answer;
  try {
    answer = await callForJson(
      gateway,
      { ...base, messages, temperature, responseFormat },
      (v) => (schema ? schemaErrors(schema, v) : []),
      (why) => call.log?.('warn', `chat reply unusable (${why}); asking once more`),
    );
  } catch (err) {
    if (err instanceof JsonReplyError) {
      if (!strict) {
        return { ...result, text: '', structured_data: {}, warnings: [err.message], calls: [] };
      }
      throw new UnrecoverableError(
        `the model did not answer a JSON object after one retry: ${err.message}`,
        'LLM_BAD_RESPONSE',
        {
          reply_start: err.snippet,
        },
      );
    }
    if (err instanceof SecretaryError) throw err;
    return timedOut(err);
  }
  if (answer.problems.length && strict) {
    throw new UnrecoverableError(
      `the model's reply does not match schema_json after one retry: ${answer.problems.map((p) => `${p.path} ${p.problem}`).join('; ')}`,
      'SCHEMA_VALIDATION_ERROR',
      { problems: answer.problems, response_text: answer.raw.slice(0, 500) },
    );
  }
  return {
    ...result,
    text: answer.raw,
    structured_data: answer.value,
    warnings: answer.problems.map((p) => `${p.path} ${p.problem}`),
    calls: answer.calls,
  };
};
