/**
 * The CPU worker-thread pool (piscina) for work that would otherwise block the event loop:
 * PDF parsing, page rendering, JPEG/PNG encoding. The API, lease heartbeats and webhooks stay
 * responsive while pages render on the other cores.
 *
 * Tasks are registered by name in `cpu-tasks.ts` (`run('processPdfPages', task)`). The pool
 * knows nothing about them; processors wrap `run` with typed functions.
 *
 * Loading the worker file: from `dist/` the threads load the compiled `cpu-tasks.js`. Under
 * vitest and `node --import tsx` this module is the `.ts` source; Node 20 ignores
 * `--import tsx` in a worker's `execArgv` (module hooks do not reach worker threads there),
 * so the threads load `cpu-tasks-tsx.mjs`, which registers tsx and then imports
 * `cpu-tasks.ts`.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';

export interface CpuPoolOptions {
  /** Worker threads. Default: `os.availableParallelism()`. */
  threads?: number;
  /** A thread idle this long exits (a new one starts on demand). Default: 60 000 ms. */
  idleTimeoutMs?: number;
  /** Keep this many threads alive even when idle. Default: 0 (let the process exit). */
  minThreads?: number;
}

export interface CpuPool {
  /** Runs the task `name` (registered in `cpu-tasks.ts`) on a worker thread. Aborting
   *  `signal` removes a queued task or terminates the thread running it. */
  run<R>(name: string, task: unknown, signal?: AbortSignal): Promise<R>;
  readonly threads: number;
  /** Tasks waiting for a thread. */
  readonly queueSize: number;
  close(): Promise<void>;
}

const workerEntry = (): string => {
  const here = new URL(import.meta.url);
  const file = here.pathname.endsWith('.ts') ? './cpu-tasks-tsx.mjs' : './cpu-tasks.js';
  return fileURLToPath(new URL(file, here));
};

export const createCpuPool = (options: CpuPoolOptions = {}): CpuPool => {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const piscina = new Piscina({
    filename: workerEntry(),
    name: 'runCpuTask',
    maxThreads: threads,
    minThreads: Math.min(threads, Math.max(0, options.minThreads ?? 0)),
    idleTimeout: options.idleTimeoutMs ?? 60_000,
  });
  return {
    threads,
    get queueSize() {
      return piscina.queueSize;
    },
    run<R>(name: string, task: unknown, signal?: AbortSignal): Promise<R> {
      return piscina.run({ name, task }, signal ? { signal } : {}) as Promise<R>;
    },
    close: () => piscina.destroy(),
  };
};

let shared: CpuPool | null = null;
let sharedOptions: CpuPoolOptions = {};

/** Sets the options of the shared pool; call before its first use (e.g. from config). */
export const configureCpuPool = (options: CpuPoolOptions): void => {
  sharedOptions = { ...options };
};

/** The process-wide pool, created on first use. */
export const getCpuPool = (): CpuPool => {
  shared ??= createCpuPool(sharedOptions);
  return shared;
};

/** Stops the shared pool's threads (shutdown, tests). The next `getCpuPool()` makes a new one. */
export const closeCpuPool = async (): Promise<void> => {
  const pool = shared;
  shared = null;
  if (pool) await pool.close();
};
