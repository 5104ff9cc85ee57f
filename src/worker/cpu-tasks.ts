/**
 * Entry file of the CPU pool's worker threads (see `cpu-pool.ts`): the registry of tasks the
 * pool can run by name. Keep this file a plain list; the work lives in the processors.
 */
import { setPriority } from 'node:os';
import { inspectPdf, processPdfPages } from '../processors/pdf/page-tasks.js';
import { splitPdf } from '../processors/pdf/pdf-split.js';
import { officeToMarkdownTask } from '../processors/office/office-task.js';

/**
 * Pool threads run below the event loop's priority: rendering and encoding are background work,
 * while the main thread answers the API (ACKs) and renews leases. On Linux a thread's nice value
 * is its own (setpriority on pid 0 changes only the calling thread); elsewhere it would change
 * the whole process, so it is left alone there.
 */
if (process.platform === 'linux') {
  try {
    setPriority(10);
  } catch {
    // not permitted (e.g. a restricted container): run at normal priority
  }
}

const TASKS = {
  inspectPdf,
  processPdfPages,
  splitPdf,
  officeToMarkdown: officeToMarkdownTask,
} as const satisfies Record<string, (task: never) => unknown>;

export type CpuTaskName = keyof typeof TASKS;

export interface CpuTaskMessage {
  name: string;
  task: unknown;
}

/** The one function piscina calls; it dispatches to the task named in the message. */
export const runCpuTask = async (message: CpuTaskMessage): Promise<unknown> => {
  const fn = (TASKS as Record<string, (task: unknown) => unknown>)[message.name];
  if (!fn) throw new Error(`unknown CPU task: ${message.name}`);
  return fn(message.task);
};
