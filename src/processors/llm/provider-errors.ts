/**
 * What can go wrong in one provider request, independent of the SDK that sent it. Provider
 * clients translate their own errors into these; the call policy decides from them whether to
 * retry, and `toSecretaryError` turns the last one into the stable code a job fails with.
 */
import { RetryLaterError, SecretaryError, UnrecoverableError } from '../../core/errors.js';

/** The provider answered with an HTTP error status. */
export class ProviderHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** From `Retry-After` / `Retry-After-Ms`, when the provider sent one. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'ProviderHttpError';
  }
}

/** The provider could not be reached (refused, reset, DNS) or the connection broke. */
export class ProviderNetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderNetworkError';
  }
}

/** One request took longer than the provider's `timeout_sec`. */
export class ProviderTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'ProviderTimeoutError';
  }
}

/** The provider answered 2xx, but the body is not what its API promises. */
export class ProviderBadResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderBadResponseError';
  }
}

export type ProviderError =
  ProviderHttpError | ProviderNetworkError | ProviderTimeoutError | ProviderBadResponseError;

export const isProviderError = (e: unknown): e is ProviderError =>
  e instanceof ProviderHttpError ||
  e instanceof ProviderNetworkError ||
  e instanceof ProviderTimeoutError ||
  e instanceof ProviderBadResponseError;

/** Worth another try within the same call: rate limits, server errors, network, timeouts, broken bodies. */
export const isRetryable = (e: ProviderError): boolean =>
  e instanceof ProviderHttpError
    ? e.status === 408 || e.status === 409 || e.status === 429 || e.status >= 500
    : true;

/** `Retry-After-Ms` (OpenAI), `Retry-After` in seconds or as an HTTP date. */
export const parseRetryAfter = (
  get: (name: string) => string | null | undefined,
): number | null => {
  const ms = Number(get('retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && get('retry-after-ms')) return ms;
  const raw = get('retry-after');
  if (!raw) return null;
  const secs = Number(raw);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
};

/** Pulls a human-readable message out of an OpenAI- or Mistral-shaped error body. */
export const errorBodyMessage = (body: unknown): string | null => {
  if (typeof body === 'string') return body.trim().slice(0, 500) || null;
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const inner =
    b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : null;
  const msg =
    inner?.message ?? b.message ?? (typeof b.error === 'string' ? b.error : null) ?? b.detail;
  if (typeof msg === 'string') return msg.slice(0, 500);
  if (msg !== undefined && msg !== null) return JSON.stringify(msg).slice(0, 500);
  return null;
};

export interface ErrorSubject {
  provider: string;
  model: string;
  baseUrl: string | null;
  apiKeyEnv: string | null;
  attempts: number;
}

/** The stable error a job fails with after the call policy gave up. */
export const toSecretaryError = (e: ProviderError, s: ErrorSubject): SecretaryError => {
  const where = `${s.provider} (${s.model})`;
  const details = {
    provider: s.provider,
    model: s.model,
    attempts: s.attempts,
    ...(e instanceof ProviderHttpError ? { status: e.status } : {}),
  };
  if (e instanceof ProviderHttpError) {
    if (e.status === 429) {
      return new RetryLaterError(
        `${where} is rate limiting (HTTP 429 after ${s.attempts} attempts): ${e.message}; the job is retried later — lower llm.providers.${s.provider}.max_concurrent to avoid this`,
        Math.max(e.retryAfterMs ?? 30_000, 1000),
        'LLM_RATE_LIMITED',
      );
    }
    if (e.status === 401 || e.status === 403) {
      const fix = s.apiKeyEnv
        ? `check the key in ${s.apiKeyEnv}`
        : `set llm.providers.${s.provider}.api_key_env to the variable holding its key`;
      return new UnrecoverableError(
        `${where} refused the request (HTTP ${e.status}): ${e.message}; ${fix}`,
        'LLM_REQUEST_FAILED',
        details,
      );
    }
    if (e.status < 500 && e.status !== 408 && e.status !== 409) {
      return new UnrecoverableError(
        `${where} rejected the request (HTTP ${e.status}): ${e.message}`,
        'LLM_REQUEST_FAILED',
        details,
      );
    }
    return new SecretaryError(
      'LLM_REQUEST_FAILED',
      `${where} failed (HTTP ${e.status} after ${s.attempts} attempts): ${e.message}`,
      details,
    );
  }
  if (e instanceof ProviderBadResponseError) {
    return new UnrecoverableError(
      `${where} answered with an unusable response: ${e.message}`,
      'LLM_BAD_RESPONSE',
      details,
    );
  }
  if (e instanceof ProviderTimeoutError) {
    return new SecretaryError(
      'LLM_REQUEST_FAILED',
      `${where} did not answer in time (${e.message}, ${s.attempts} attempts); raise llm.providers.${s.provider}.timeout_sec if the model is slow`,
      details,
    );
  }
  return new SecretaryError(
    'LLM_REQUEST_FAILED',
    `cannot reach ${where} at ${s.baseUrl ?? '(no base_url)'}: ${e.message}`,
    details,
  );
};
