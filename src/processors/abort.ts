import { SecretaryError } from '../core/errors.js';

/**
 * The error to throw when work stops because `signal` was aborted: the signal's own reason
 * when it is an `Error` (so a `PROCESSING_TIMEOUT` set by the worker survives), otherwise a
 * `CANCELLED` SecretaryError.
 */
export const abortError = (signal: AbortSignal | undefined): Error => {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new SecretaryError('CANCELLED', 'processing was cancelled');
};

export const throwIfAborted = (signal: AbortSignal | undefined): void => {
  if (signal?.aborted) throw abortError(signal);
};

/** Resolves or rejects with `promise`, or rejects with `abortError(signal)` as soon as it aborts. */
export const raceAbort = <T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
};

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, in order of submission.
 * Stops submitting after the first failure or abort and rejects with that error once the
 * calls already running have settled (so no work outlives the call).
 */
export const mapLimited = async <T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      if (signal?.aborted) {
        failure = { error: abortError(signal) };
        return;
      }
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (err) {
        failure ??= { error: err };
      }
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane);
  await Promise.all(lanes);
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
};
