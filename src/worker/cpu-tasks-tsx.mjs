// Worker entry used only when Secretary runs from its TypeScript sources (vitest,
// `node --import tsx`): Node 20 does not apply `--import tsx` from a worker's execArgv, so
// tsx is registered here before the `.ts` task file is imported. From `dist/`, the pool loads
// the compiled `cpu-tasks.js` directly and this file is not used.
import { register } from 'tsx/esm/api';

register();
const tasks = await import('./cpu-tasks.ts');

export const runCpuTask = tasks.runCpuTask;
