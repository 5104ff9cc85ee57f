/**
 * `echo`: a diagnostic job type. It returns its parameters as results after an optional
 * delay, can report progress and can fail on request; useful to try the queue, webhooks
 * and SSE from `curl` without any document.
 */
import Type from 'typebox';
import { RetryLaterError, UnrecoverableError } from '../../core/errors.js';
import type { JobTypeDefinition } from '../../worker/registry.js';

export const echoParameters = Type.Object(
  {
    message: Type.Optional(Type.String({ maxLength: 100_000 })),
    sleep_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    steps: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    fail_with: Type.Optional(Type.Union([Type.Literal('unrecoverable'), Type.Literal('retry'), Type.Literal('error')])),
  },
  { additionalProperties: true },
);

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

export const echoJobType: JobTypeDefinition = {
  type: 'echo',
  description: 'Returns its parameters; optional sleep_ms, steps (progress reports) and fail_with for trying things out.',
  parameters: echoParameters,
  handler: async (job, ctx) => {
    const p = job.parameters as { sleep_ms?: number; steps?: number; fail_with?: string; message?: string };
    const steps = p.steps ?? 0;
    const sleepMs = p.sleep_ms ?? 0;
    ctx.progress('initializing', 0, 'echo started');
    for (let i = 1; i <= steps; i++) {
      await sleep(sleepMs / Math.max(1, steps), ctx.signal);
      ctx.progress(`processing:${i}/${steps}`, 10 + Math.round((80 * i) / steps), `step ${i} of ${steps}`);
    }
    if (steps === 0 && sleepMs > 0) await sleep(sleepMs, ctx.signal);
    if (p.fail_with === 'unrecoverable') throw new UnrecoverableError('echo asked to fail (unrecoverable)');
    if (p.fail_with === 'retry') throw new RetryLaterError('echo asked to retry', 100);
    if (p.fail_with === 'error') throw new Error('echo asked to fail');
    ctx.log('info', `echo finished after ${steps} steps`);
    return { echo: job.parameters, message: p.message ?? null, attempt: ctx.attempt };
  },
};
