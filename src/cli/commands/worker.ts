import { parseArgs } from 'node:util';
import { commonOptions, configFrom } from '../cli-config.js';
import { createRuntime, warnWithoutArenaLimit } from '../runtime.js';
import { onShutdownSignal } from './signals.js';

/** `secretary worker`: runs a worker process against the configured store until SIGTERM. */
export const workerCommand = async (args: string[]): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: { ...commonOptions, concurrency: { type: 'string' } },
    allowPositionals: false,
  });
  const concurrency = values.concurrency ? Number(values.concurrency) : undefined;
  const config = configFrom(values, {
    generic_worker: { active: true, ...(concurrency ? { max_concurrent: concurrency } : {}) },
  });
  const rt = await createRuntime({ config, withWorker: true });
  warnWithoutArenaLimit(rt.logger);
  rt.logger.info(
    { worker: rt.worker?.workerId },
    'worker process running; SIGTERM drains and exits',
  );
  onShutdownSignal(async (signal) => {
    rt.logger.info({ signal }, 'shutting down: finishing running jobs');
    await rt.close();
  });
  await new Promise(() => {});
  return 0;
};
