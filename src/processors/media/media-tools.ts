/**
 * The system tools media work runs (ffmpeg, ffprobe, yt-dlp): found on PATH or at a configured
 * path, run as child processes (the event loop stays free), killed when the caller's signal
 * aborts (job cancel, timeout, shutdown). A missing tool is `MEDIA_TOOL_MISSING` with the
 * Debian package to install; a tool that fails says so with the last lines it printed.
 */
import { spawn } from 'node:child_process';
import { SecretaryError, UnrecoverableError, type ErrorCode } from '../../core/errors.js';
import { abortError } from '../abort.js';

export type MediaTool = 'ffmpeg' | 'ffprobe' | 'yt-dlp';

/** How to get each tool on Debian (named in the error). */
const INSTALL_HINT: Record<MediaTool, string> = {
  ffmpeg: 'install the Debian package `ffmpeg` (apt-get install ffmpeg)',
  ffprobe: 'install the Debian package `ffmpeg`, which contains ffprobe (apt-get install ffmpeg)',
  'yt-dlp':
    "install a current yt-dlp on the worker host (its release binary; Debian's `yt-dlp` package is often too old for YouTube)",
};

const CONFIG_KEY: Record<MediaTool, string> = {
  ffmpeg: 'processors.media.ffmpeg_path',
  ffprobe: 'processors.media.ffprobe_path',
  'yt-dlp': 'processors.media.yt_dlp_path',
};

const VERSION_ARG: Record<MediaTool, string> = {
  ffmpeg: '-version',
  ffprobe: '-version',
  'yt-dlp': '--version',
};

const missing = (tool: MediaTool, configured: string, why: string): UnrecoverableError =>
  new UnrecoverableError(
    `${tool} is not available (${JSON.stringify(configured)}: ${why}): ${INSTALL_HINT[tool]}, or set ${CONFIG_KEY[tool]}`,
    'MEDIA_TOOL_MISSING',
    { tool, configured, config_key: CONFIG_KEY[tool] },
  );

const checked = new Map<string, Promise<string>>();

/**
 * Checks once per process that a tool (a name looked up on PATH, or a path) starts and
 * answers its version flag; resolves with its first output line, or rejects with
 * `MEDIA_TOOL_MISSING` naming the package and the config key. A failed check is not
 * remembered, so installing the tool needs no restart.
 */
export const ensureTool = (tool: MediaTool, configured: string): Promise<string> => {
  const key = `${tool}\0${configured}`;
  let p = checked.get(key);
  if (!p) {
    p = new Promise<string>((resolve, reject) => {
      let out = '';
      const child = spawn(configured, [VERSION_ARG[tool]], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (out.length < 4096) out += d;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(missing(tool, configured, err.code === 'ENOENT' ? 'not found' : (err.code ?? err.message)));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out.split('\n')[0]?.trim() ?? '');
        else reject(missing(tool, configured, `\`${VERSION_ARG[tool]}\` exited with ${code}`));
      });
    });
    checked.set(key, p);
    p.catch(() => checked.delete(key));
  }
  return p;
};

export interface ToolRun {
  stdout: string;
  stderr: string;
}

export interface RunToolOptions {
  signal?: AbortSignal;
  /** Kills the tool after this many ms (`PROCESSING_TIMEOUT`-like failure of the step). */
  timeoutMs?: number;
  /** Called with the child's pid once it runs (logs, tests). */
  onSpawn?: (pid: number) => void;
  /** Keep at most this many bytes of stdout (default 4 MB) and stderr (default 256 KB tail). */
  maxStdout?: number;
  /** Error code when the tool exits non-zero. Default `CONVERSION_FAILED`. */
  failureCode?: ErrorCode;
  /** Names the step in error messages, e.g. `ffmpeg (audio extraction)`. */
  label?: string;
}

const lastLines = (text: string, n = 6): string =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join('\n');

/**
 * Runs `bin args…` (no shell, so nothing in `args` is interpreted) and resolves with its
 * output when it exits 0. On abort the child gets SIGKILL at once and the promise rejects
 * with the abort reason; a non-zero exit rejects with `failureCode` and the last stderr lines.
 */
export const runTool = (bin: string, args: string[], opts: RunToolOptions = {}): Promise<ToolRun> =>
  new Promise<ToolRun>((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const label = opts.label ?? bin.split('/').pop() ?? bin;
    const maxOut = opts.maxStdout ?? 4 * 1024 * 1024;
    const maxErr = 256 * 1024;
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < maxOut) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > maxErr * 2) stderr = stderr.slice(-maxErr);
    });
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const onAbort = (): void => kill();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      opts.timeoutMs && opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, opts.timeoutMs)
        : null;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ stdout, stderr });
    };
    child.once('spawn', () => {
      if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish(
        err.code === 'ENOENT' || err.code === 'EACCES'
          ? new UnrecoverableError(`${label} could not be started (${err.code}) at ${bin}`, 'MEDIA_TOOL_MISSING', {
              tool: label,
            })
          : err,
      );
    });
    child.once('close', (code, sig) => {
      if (signal?.aborted) return finish(abortError(signal));
      if (timedOut) {
        return finish(
          new SecretaryError(opts.failureCode ?? 'CONVERSION_FAILED', `${label} did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`, {
            tool: label,
          }),
        );
      }
      if (code === 0) return finish(null);
      const tail = lastLines(stderr);
      finish(
        new UnrecoverableError(
          `${label} failed (${sig ? `killed by ${sig}` : `exit code ${code}`})${tail ? `: ${tail.split('\n').pop()}` : ''}`,
          opts.failureCode ?? 'CONVERSION_FAILED',
          { tool: label, exit_code: code, signal: sig, output: tail },
        ),
      );
    });
  });
