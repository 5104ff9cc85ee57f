/**
 * How one provider request is sent: a slot from the provider's limiter (held only while the
 * request is in flight, never while backing off), a per-attempt timeout, the caller's abort
 * signal, and retries with exponential backoff and jitter on 429, 5xx, network errors,
 * timeouts and broken bodies. A `Retry-After` is honoured when it is short; a long one ends
 * the call with `LLM_RATE_LIMITED` so the job is re-queued instead of holding a worker slot.
 */
import { abortError } from '../abort.js';
import type { ProviderLimiter } from './provider-limiter.js';
import {
  isProviderError,
  isRetryable,
  ProviderNetworkError,
  ProviderTimeoutError,
  toSecretaryError,
  type ErrorSubject,
  type ProviderError,
} from './provider-errors.js';

export interface CallPolicy {
  limiter: ProviderLimiter;
  maxRetries: number;
  timeoutMs: number;
  /** First backoff in ms (doubled per retry, full jitter). Default 500. */
  backoffBaseMs?: number;
  /** Longest wait between attempts, also the longest `Retry-After` waited for inline. Default 20 s. */
  maxWaitMs?: number;
  signal?: AbortSignal;
  subject: Omit<ErrorSubject, 'attempts'>;
  onRetry?: (attempt: number, err: ProviderError, waitMs: number) => void;
}

export interface CallOutcome<T> {
  value: T;
  /** Attempts made (1 = no retry). */
  attempts: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Runs `send` under the policy. `send` must honour the signal it gets and throw `ProviderError`s. */
export const callWithPolicy = async <T>(
  p: CallPolicy,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<CallOutcome<T>> => {
  const base = p.backoffBaseMs ?? 500;
  const maxWait = p.maxWaitMs ?? 20_000;
  for (let attempt = 1; ; attempt++) {
    const release = await p.limiter.acquire(p.signal);
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new ProviderTimeoutError(p.timeoutMs)),
      p.timeoutMs,
    );
    const signal = p.signal ? AbortSignal.any([p.signal, timeout.signal]) : timeout.signal;
    let failure: ProviderError;
    try {
      return { value: await send(signal), attempts: attempt };
    } catch (thrown) {
      if (p.signal?.aborted) throw abortError(p.signal);
      if (timeout.signal.aborted) failure = timeout.signal.reason as ProviderTimeoutError;
      else if (isProviderError(thrown)) failure = thrown;
      else
        failure = new ProviderNetworkError(
          thrown instanceof Error ? thrown.message : String(thrown),
        );
    } finally {
      clearTimeout(timer);
      release();
    }
    const retryAfter = 'retryAfterMs' in failure ? failure.retryAfterMs : null;
    const giveUp =
      !isRetryable(failure) ||
      attempt > p.maxRetries ||
      (retryAfter !== null && retryAfter > maxWait);
    if (giveUp) throw toSecretaryError(failure, { ...p.subject, attempts: attempt });
    const backoff = Math.min(maxWait, base * 2 ** (attempt - 1));
    const wait = retryAfter ?? Math.round(backoff / 2 + Math.random() * (backoff / 2));
    p.onRetry?.(attempt, failure, wait);
    await sleep(wait, p.signal);
  }
};
