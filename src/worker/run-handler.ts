import type { ClaimedJob } from '../core/job.js';
import { JobAbort } from './abort-reasons.js';
import type { HandlerResult, JobHandler } from './registry.js';
import type { RunningJob } from './running-job.js';

/**
 * Runs a handler under its time limit. When the signal aborts (timeout, cancel, lost lease,
 * shutdown) this returns at once with the abort reason, even if the handler ignores the
 * signal or never settles: the slot is freed and the handler's later writes are fenced out.
 */
export const runHandler = async (
  handler: JobHandler,
  job: ClaimedJob,
  r: RunningJob,
  timeoutMs: number,
): Promise<HandlerResult> => {
  const timer = setTimeout(
    () => r.abort(new JobAbort('timeout', `handler exceeded ${Math.round(timeoutMs / 1000)} s`)),
    timeoutMs,
  );
  try {
    // The handler may throw synchronously or return a non-promise; normalise both.
    const run = Promise.resolve().then(() => handler(job, r.context));
    run.catch(() => undefined); // a late rejection after an abort must not be unhandled
    const result = await Promise.race([run, r.aborted]);
    if (result !== undefined && (typeof result !== 'object' || result === null || Array.isArray(result))) {
      return { value: result as unknown };
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
};
