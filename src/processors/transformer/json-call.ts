/**
 * One model call that must answer a JSON object, with one retry: the reply is parsed and
 * repaired (`parseJsonReply`) and checked (`check`); when it is not JSON or has problems, the
 * same prompt is sampled once more at a higher temperature. A different temperature is a
 * different request, so both answers are cached under their own keys and a cached exchange
 * replays at no cost; resending the identical request at a low temperature would mostly
 * repeat the failure (and hit the cached bad answer).
 */
import type { ModelGateway } from '../llm/model-gateway.js';
import type { ChatRequest, ChatResult } from '../llm/types.js';
import { JsonReplyError, parseJsonReply } from '../templates/json-repair.js';

export interface CallRecord {
  provider: string;
  model: string;
  fromCache: boolean;
  cost: number | null;
  durationMs: number;
  jsonMode: boolean;
}

export const callRecord = (r: ChatResult): CallRecord => ({
  provider: r.provider,
  model: r.model,
  fromCache: r.fromCache,
  cost: r.cost,
  durationMs: r.durationMs,
  jsonMode: r.jsonMode,
});

export interface JsonCallResult<P> {
  value: Record<string, unknown>;
  /** The reply text the value came from. */
  raw: string;
  repairs: string[];
  /** What `check` still finds in the best reply (empty: clean). */
  problems: P[];
  calls: CallRecord[];
}

/** Temperature of the second sample. */
export const retryTemperature = (base: number): number =>
  Math.round(Math.min(1, Math.max(0.5, base + 0.4)) * 100) / 100;

interface Attempt<P> {
  ok: boolean;
  value?: Record<string, unknown>;
  raw: string;
  repairs: string[];
  problems: P[];
  error?: JsonReplyError;
}

/**
 * Asks for a JSON object; throws `JsonReplyError` when neither sample is a JSON object. The best
 * reply (no problems, else fewer) wins; `onRetry` is told why a second sample was taken.
 */
export const callForJson = async <P>(
  gateway: ModelGateway,
  req: ChatRequest & { temperature: number },
  check: (value: Record<string, unknown>) => P[],
  onRetry?: (why: string) => void,
): Promise<JsonCallResult<P>> => {
  const calls: CallRecord[] = [];
  const attempt = async (temperature: number): Promise<Attempt<P>> => {
    const res = await gateway.chat('chat', { ...req, temperature });
    calls.push(callRecord(res));
    try {
      const parsed = parseJsonReply(res.text);
      return {
        ok: true,
        value: parsed.value,
        raw: res.text,
        repairs: parsed.repairs,
        problems: check(parsed.value),
      };
    } catch (err) {
      if (!(err instanceof JsonReplyError)) throw err;
      return { ok: false, raw: res.text, repairs: [], problems: [], error: err };
    }
  };
  const first = await attempt(req.temperature);
  if (first.ok && first.problems.length === 0) {
    return { value: first.value!, raw: first.raw, repairs: first.repairs, problems: [], calls };
  }
  onRetry?.(first.ok ? `${first.problems.length} field problem(s)` : first.error!.message);
  const second = await attempt(retryTemperature(req.temperature));
  const candidates = [first, second].filter((a) => a.ok);
  if (!candidates.length) throw second.error!;
  const best = candidates.sort((a, b) => a.problems.length - b.problems.length)[0]!;
  return {
    value: best.value!,
    raw: best.raw,
    repairs: best.repairs,
    problems: best.problems,
    calls,
  };
};
