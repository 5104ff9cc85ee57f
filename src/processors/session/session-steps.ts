/**
 * The steps of the session pipeline and how their failures are reported. A failed fatal step
 * throws its error again with the step named in the message (`step fetch_page failed: …`) and
 * in `details.step`; the class (no retry / retry later / retry with backoff) and the code are
 * kept, so the worker's retry policy still applies. Aborts (cancel, timeout) pass unchanged.
 * A failed non-fatal step becomes a warning `{step, code, message}`.
 */
import {
  RetryLaterError,
  SecretaryError,
  UnrecoverableError,
  coerceError,
} from '../../core/errors.js';

export const SESSION_STEPS = [
  'fetch_page',
  'video',
  'attachments',
  'template',
  'write_markdown',
  'archive',
] as const;
export type SessionStep = (typeof SESSION_STEPS)[number];

export interface StepWarning {
  step: SessionStep;
  code: string;
  message: string;
}

export interface StepRecord {
  step: SessionStep;
  status: 'done' | 'skipped' | 'failed';
  duration_ms: number;
  /** Why skipped, or the warning's message. */
  note?: string;
}

/** What to check when a fatal step fails (the cause's own message comes first). */
const HINTS: Partial<Record<SessionStep, string>> = {
  fetch_page: 'check the session url (it must be a reachable web page)',
  write_markdown: 'check that processors.session.base_dir is writable and has space',
};

/** `err` again, named after the step (class, code and the other details kept). */
export const stepFailure = (step: SessionStep, thrown: unknown, signal?: AbortSignal): Error => {
  const err = coerceError(thrown);
  if (signal?.aborted) return err;
  const hint = HINTS[step];
  const message = `step ${step} failed: ${err.message}${hint ? `; ${hint}` : ''}`;
  if (err instanceof SecretaryError) {
    const details = { ...(err.details ?? {}), step };
    if (err instanceof RetryLaterError) {
      const e = new RetryLaterError(message, err.delayMs, err.code);
      (e as { details: Record<string, unknown> | null }).details = details;
      return e;
    }
    if (err instanceof UnrecoverableError)
      return new UnrecoverableError(message, err.code, details);
    return new SecretaryError(err.code, message, details);
  }
  return new SecretaryError('HANDLER_ERROR', message, { step, error_type: err.name });
};

/** The warning of a failed non-fatal step. */
export const stepWarning = (step: SessionStep, thrown: unknown): StepWarning => {
  const err = coerceError(thrown);
  return {
    step,
    code: err instanceof SecretaryError ? err.code : 'HANDLER_ERROR',
    message: err.message,
  };
};
