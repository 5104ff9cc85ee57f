/** Small helpers for the benchmarks: JSON-line output, timing, external tools. */
import { spawn, spawnSync } from 'node:child_process';

/** One result line on stdout (stdout carries nothing else). */
export const emit = (record: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

/** Diagnostics go to stderr. */
const started = performance.now();
export const note = (message: string): void => {
  const t = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[bench +${t}s] ${message}\n`);
};

export const hasTool = (name: string): boolean =>
  spawnSync('which', [name], { stdio: 'ignore' }).status === 0;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Runs `fn` `reps` times and returns the median wall time in ms. */
export const timeMedian = async (reps: number, fn: () => Promise<unknown>): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
};

/** Runs a command to completion; rejects on a non-zero exit. */
export const runTool = (cmd: string, args: readonly string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 300)}`)),
    );
  });

export const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
