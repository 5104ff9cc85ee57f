/** Typed calls of the PDF tasks on the CPU pool (main-thread side). */
import { getCpuPool } from '../../worker/cpu-pool.js';
import type { CpuPool } from '../../worker/cpu-pool.js';
import { abortError } from '../abort.js';
import type {
  PdfInspectResult,
  PdfInspectTask,
  PdfPageOutput,
  PdfPagesTask,
} from './page-tasks-types.js';
import type { PdfSplitResult, PdfSplitTask } from './pdf-split.js';

const run = async <R>(
  pool: CpuPool,
  name: string,
  task: unknown,
  signal?: AbortSignal,
): Promise<R> => {
  try {
    return await pool.run<R>(name, task, signal);
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw err;
  }
};

export const runInspectPdf = (task: PdfInspectTask, signal?: AbortSignal, pool = getCpuPool()) =>
  run<PdfInspectResult>(pool, 'inspectPdf', task, signal);

export const runPdfPages = (task: PdfPagesTask, signal?: AbortSignal, pool = getCpuPool()) =>
  run<PdfPageOutput[]>(pool, 'processPdfPages', task, signal);

export const runSplitPdf = (task: PdfSplitTask, signal?: AbortSignal, pool = getCpuPool()) =>
  run<PdfSplitResult>(pool, 'splitPdf', task, signal);
