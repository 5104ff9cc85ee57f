/**
 * What a failed handler run becomes: a retry at a later `run_at`, or a terminal failure.
 *
 * - a timeout fails at once with PROCESSING_TIMEOUT;
 * - `UnrecoverableError`, the last attempt, and bad-input errors (4xx-class codes other than 429)
 *   fail at once: they would fail the same way again;
 * - everything else is retried after `RetryLaterError.delayMs` or exponential backoff with jitter.
 */
import type { ClaimedJob, JobError } from '../core/job.js';
import { RetryLaterError, SecretaryError, toJobError, UnrecoverableError } from '../core/errors.js';
import { backoffMs } from './backoff.js';

export interface FailureDecision {
  error: JobError;
  /** ISO instant of the retry; null: the job fails for good. */
  retryAt: string | null;
}

/** `err` null: the handler timed out. */
export const decideFailure = (
  job: ClaimedJob,
  err: Error | null,
  backoff: { baseMs: number; maxMs: number },
): FailureDecision => {
  if (!err) {
    return {
      error: {
        code: 'PROCESSING_TIMEOUT',
        message: 'the handler exceeded its time limit and was aborted',
      },
      retryAt: null,
    };
  }
  const error = toJobError(err);
  const attemptsLeft = job.attempts < job.max_attempts;
  if (err instanceof UnrecoverableError || !attemptsLeft) return { error, retryAt: null };
  if (
    err instanceof SecretaryError &&
    !(err instanceof RetryLaterError) &&
    err.status < 500 &&
    err.status !== 429
  ) {
    // Bad input (4xx-class codes) will fail the same way again.
    return { error, retryAt: null };
  }
  const delay =
    err instanceof RetryLaterError
      ? err.delayMs
      : backoffMs(job.attempts, backoff.baseMs, backoff.maxMs);
  return { error, retryAt: new Date(Date.now() + delay).toISOString() };
};
