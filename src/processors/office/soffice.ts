/**
 * Office → PDF with LibreOffice: `soffice --headless --convert-to pdf`. Each conversion runs
 * with its own throw-away profile (`-env:UserInstallation=file:///tmp/…`), so conversions at
 * the same time do not fight over one profile lock; at most `maxConcurrent` run at once in the
 * process (soffice takes ~150 MB and a core each). The child runs in its own process group and
 * the whole group is killed on timeout (`PROCESSING_TIMEOUT`) and abort (cancel, shutdown);
 * the profile dir is removed once the child has exited.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SecretaryError, UnrecoverableError } from '../../core/errors.js';
import { abortError } from '../abort.js';
import { ProviderLimiter } from '../llm/provider-limiter.js';
import type { SofficeOptions } from './types.js';

/** The Debian packages that provide `soffice` without a desktop. */
export const LIBREOFFICE_PACKAGES = 'libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui';

const limiter = new ProviderLimiter(2);

/** Conversions running and waiting in this process (metrics, tests). */
export const sofficeLoad = (): { running: number; waiting: number } => ({ running: limiter.inFlight, waiting: limiter.queued });

export const missingSofficeError = (configured: string): UnrecoverableError =>
  new UnrecoverableError(
    `LibreOffice (${configured}) is not installed: apt-get install --no-install-recommends ${LIBREOFFICE_PACKAGES}, or point processors.office.soffice_path at soffice`,
    'MEDIA_TOOL_MISSING',
    { tool: 'soffice', configured, debian_packages: LIBREOFFICE_PACKAGES.split(' ') },
  );

const tail = (s: string, lines = 8): string => s.trim().split('\n').slice(-lines).join('\n').slice(-2000);

/** Kills the child's whole process group (soffice starts oosplash and soffice.bin). */
const killGroup = (pid: number | undefined): void => {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};

export interface ConvertToPdfOptions extends SofficeOptions {
  signal?: AbortSignal;
  /** Extension the input is given to soffice with (LibreOffice picks its import filter by content, but needs one). */
  extension?: string;
}

/**
 * Converts `inputPath` to PDF and moves the result to `outPath`. Throws `MEDIA_TOOL_MISSING`,
 * `PROCESSING_TIMEOUT`, `CONVERSION_FAILED` (with soffice's last output lines) or the abort error.
 */
export const convertToPdf = async (inputPath: string, outPath: string, opts: ConvertToPdfOptions): Promise<void> => {
  limiter.setLimit(opts.maxConcurrent);
  const release = await limiter.acquire(opts.signal);
  const work = await mkdtemp(path.join(tmpdir(), 'secretary-soffice-'));
  try {
    const profile = path.join(work, 'profile');
    const outDir = path.join(work, 'out');
    await mkdir(outDir);
    const ext = (opts.extension ?? path.extname(inputPath)).toLowerCase().replace(/[^.a-z0-9]/g, '') || '.bin';
    const input = path.join(work, `document${ext.startsWith('.') ? ext : `.${ext}`}`);
    await copyFile(inputPath, input);
    const args = ['--headless', '--norestore', '--nologo', '--nodefault', '--nolockcheck', `-env:UserInstallation=${pathToFileURL(profile).href}`, '--convert-to', 'pdf', '--outdir', outDir, input];
    await runSoffice(opts.path, args, work, opts);
    const produced = await findPdf(outDir, 'document.pdf');
    if (!produced) throw new UnrecoverableError('LibreOffice finished without writing a PDF (is the file a document LibreOffice can open?)', 'CONVERSION_FAILED', { tool: 'soffice' });
    await mkdir(path.dirname(outPath), { recursive: true });
    await copyFile(produced, outPath);
  } finally {
    release();
    await rm(work, { recursive: true, force: true });
  }
};

/** `expected` in `dir`, else the newest `*.pdf` there (the original's fallback), else null. */
const findPdf = async (dir: string, expected: string): Promise<string | null> => {
  const names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.pdf'));
  if (names.includes(expected)) return path.join(dir, expected);
  let best: { p: string; t: number } | null = null;
  for (const n of names) {
    const p = path.join(dir, n);
    const t = (await stat(p)).mtimeMs;
    if (!best || t > best.t) best = { p, t };
  }
  return best?.p ?? null;
};

/** Runs soffice to its exit; the promise settles only after the child is gone. */
const runSoffice = (binary: string, args: string[], cwd: string, opts: ConvertToPdfOptions): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(abortError(opts.signal));
      return;
    }
    // `binary` is a name (PATH lookup by spawn) or a path; ENOENT/EACCES mean "not installed"
    const child = spawn(binary, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    let output = '';
    const collect = (b: Buffer): void => {
      output = (output + b.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let stopped: Error | null = null;
    const stop = (err: Error): void => {
      if (stopped) return;
      stopped = err;
      killGroup(child.pid);
    };
    const timer = setTimeout(
      () =>
        stop(
          new UnrecoverableError(
            `LibreOffice did not finish converting within ${Math.round(opts.timeoutMs / 1000)} s (processors.office.soffice_timeout_sec); the conversion was stopped`,
            'PROCESSING_TIMEOUT',
            { tool: 'soffice', timeout_sec: Math.round(opts.timeoutMs / 1000) },
          ),
        ),
      opts.timeoutMs,
    );
    const onAbort = (): void => stop(abortError(opts.signal));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      // the child could not be started: there is nothing to wait for
      if (err.code === 'ENOENT' || err.code === 'EACCES') settle(missingSofficeError(binary));
      else settle(new UnrecoverableError(`LibreOffice could not be started: ${err.message}`, 'MEDIA_TOOL_MISSING', { tool: 'soffice' }));
    });
    child.on('close', (code, sig) => {
      // a stray grandchild may still hold the group; make sure nothing outlives the conversion
      killGroup(child.pid);
      if (stopped) settle(stopped);
      else if (code === 0) settle(null);
      else
        settle(
          new SecretaryError('CONVERSION_FAILED', `LibreOffice could not convert the file (exit ${code ?? sig}): ${tail(output) || 'no output'}`, {
            tool: 'soffice',
            exit_code: code,
            signal: sig,
            output: tail(output),
          }),
        );
    });
  });
