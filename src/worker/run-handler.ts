import type { ClaimedJob } from '../core/job.js';
import { JobAbort } from './abort-reasons.js';
import type { HandlerResult, JobHandler } from './registry.js';
import type { RunningJob } from './running-job.js';

/**
 * Runs a handler under its time limit. When the signal aborts (timeout, cancel, lost lease,
 * shutdown) this returns at once with the abort reason, even if the handler ignores the
 * signal or never settles: the slot is freed and the handler's later writes are fenced out.
 */
export const runHandler = (handler: JobHandler, job: ClaimedJob, r: RunningJob, timeoutMs: number): Promise<HandlerResult> =>
  new Promise<HandlerResult>((resolve, reject) => {
    if (r.abortedWith) {
      reject(r.abortedWith);
      return;
    }
    const timer = setTimeout(
      () => r.abort(new JobAbort('timeout', `handler exceeded ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    const done = (): void => {
      clearTimeout(timer);
      r.onAbort = null;
    };
    r.onAbort = (reason) => {
      done();
      reject(reason);
    };
    let out: unknown;
    try {
      // The handler may throw synchronously or return a non-promise; both are normalised.
      out = handler(job, r.context);
    } catch (err) {
      done();
      reject(err);
      return;
    }
    // A late settlement after an abort is ignored (the promise is already settled).
    Promise.resolve(out).then(
      (result) => {
        done();
        resolve(normalise(result));
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });

/** A handler's return value as results: objects as they are, anything else under `value`. */
const normalise = (result: unknown): HandlerResult => {
  if (result !== undefined && (typeof result !== 'object' || result === null || Array.isArray(result))) {
    return { value: result };
  }
  return result as HandlerResult;
};
