/** Runs a real command and collects what it prints (stdout and stderr together). */
import { spawn } from 'node:child_process';

export interface ProcessOutput {
  code: number | null;
  output: string;
}

/**
 * Spawns `command` in its own process group and resolves when it exits. With `stopWhen`, the
 * group gets SIGTERM once the output matches (for servers); after `timeoutMs` it gets SIGKILL
 * and the promise rejects with what was printed.
 */
export const runForOutput = (
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stopWhen?: RegExp; timeoutMs?: number } = {},
): Promise<ProcessOutput> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true });
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    const read = (c: Buffer): void => {
      output += c.toString();
      if (opts.stopWhen?.test(output)) process.kill(-child.pid!, 'SIGTERM');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (timedOut)
        reject(new Error(`${command} ${args.join(' ')} did not finish in time:\n${output}`));
      else resolve({ code, output });
    });
  });
