import { parseArgs } from 'node:util';
import { ApiMetrics } from '../../api/metrics.js';
import { assertBindAllowed, startServer } from '../../api/server.js';
import { commonOptions, configFrom } from '../cli-config.js';
import { createRuntime, warnWithoutArenaLimit } from '../runtime.js';
import { onShutdownSignal } from './signals.js';

/**
 * `secretary serve`: the API and (unless `--no-worker`) a worker in one process. The worker
 * starts as soon as the port is bound (before the first request is read), so a second `serve`
 * on a taken port stops at once instead of first running the pending jobs it claimed.
 * SIGTERM: close the server (open SSE streams end), then drain the worker and close the store.
 */
export const serveCommand = async (args: string[]): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      ...commonOptions,
      'no-worker': { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(
      'usage: secretary serve [--no-worker] [--host h] [--port p] [--home dir] [--config file] [--store url]\n',
    );
    return 0;
  }
  const port = values.port !== undefined ? Number(values.port) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`secretary: --port must be 0..65535, got ${values.port}\n`);
    return 2;
  }
  const config = configFrom(values, {
    server: {
      ...(values.host ? { host: values.host } : {}),
      ...(port !== undefined ? { port } : {}),
    },
    ...(values['no-worker'] ? { generic_worker: { active: false } } : {}),
  });
  assertBindAllowed(config, config.server.host);
  const metrics = new ApiMetrics().enableProcessMetrics();
  const rt = await createRuntime({
    config,
    withWorker: !values['no-worker'],
    workerEvents: metrics.workerEvents,
    onModelCall: metrics.onModelCall,
    deferStart: true,
  });
  metrics.attachModels(rt.models);
  if (rt.worker) warnWithoutArenaLimit(rt.logger);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(rt, { host: config.server.host, port: config.server.port, metrics });
  } catch (err) {
    await rt.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `${config.server.host}:${config.server.port} is already in use (another secretary serve?); stop that process, or start this one with --port <n>`,
      );
    }
    throw err;
  }
  rt.start();
  onShutdownSignal(async (signal) => {
    rt.logger.info({ signal }, 'shutting down: closing the server, then finishing running jobs');
    await server.app.close();
    await rt.close();
  });
  await new Promise(() => {});
  return 0;
};
