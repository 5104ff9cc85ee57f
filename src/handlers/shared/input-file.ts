/**
 * Where a job's input document comes from: an upload stored by an ingress endpoint
 * (`upload_path`), a local `file_path`/`filename` inside the configured allowed roots, or a
 * `url` downloaded through the SSRF guard with a timeout and size cap.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { SecretaryError, UnrecoverableError } from '../../core/errors.js';
import type { SecretaryConfig } from '../../config/defaults.js';
import { isInside } from '../../files/safe-path.js';
import { uploadsDir } from '../../files/cache-layout.js';
import { safeDownload } from '../../net/safe-fetch.js';

export interface InputFile {
  path: string;
  /** The name the client knows the document by. */
  name: string;
  /** Where it came from, for logs and results. */
  source: 'upload' | 'file' | 'url';
  url: string | null;
}

export const param = <T>(p: Record<string, unknown>, key: string): T | undefined => {
  const v = p[key] ?? (p.extra as Record<string, unknown> | undefined)?.[key];
  return v === null || v === undefined ? undefined : (v as T);
};

export const resolveInputFile = async (
  params: Record<string, unknown>,
  opts: {
    config: SecretaryConfig;
    jobId: string;
    maxBytes: number;
    signal: AbortSignal;
    extension: string;
    /** Default `processors.pdf.download_timeout_sec`. */
    downloadTimeoutMs?: number;
  },
): Promise<InputFile> => {
  const { config } = opts;
  const upload = param<string>(params, 'upload_path');
  const local = param<string>(params, 'file_path') ?? param<string>(params, 'filename');
  const url = param<string>(params, 'url');
  const original = param<string>(params, 'original_filename');
  if (upload || local) {
    const raw = (upload ?? local)!.replace(/\\/g, '/');
    // `cache/…` names a file under this host's cache root (uploads are stored that way, so a
    // worker on another host with a shared cache mount finds them)
    const abs = raw.startsWith('cache/') ? join(config.paths.cache_dir, raw.slice('cache/'.length)) : resolve(config.paths.home, raw);
    const roots = [...config.paths.allowed_input_roots, config.paths.cache_dir].map((r) => resolve(r));
    if (!roots.some((r) => isInside(r, abs))) {
      throw new UnrecoverableError(
        `file ${raw} is outside the allowed input roots; upload the file or add its folder to paths.allowed_input_roots`,
        'FORBIDDEN',
      );
    }
    const st = await stat(abs).catch(() => null);
    if (!st?.isFile()) throw new UnrecoverableError(`file not found: ${raw}`, 'FILE_NOT_FOUND');
    if (st.size > opts.maxBytes) {
      throw new UnrecoverableError(`file is ${st.size} bytes; the limit is ${opts.maxBytes}`, 'FILE_TOO_LARGE');
    }
    return { path: abs, name: original ?? basename(abs), source: upload ? 'upload' : 'file', url: null };
  }
  if (url) {
    const dir = uploadsDir(config.paths.cache_dir);
    await mkdir(dir, { recursive: true });
    const target = join(dir, `download_${opts.jobId}${opts.extension}`);
    const res = await safeDownload(url, {
      timeoutMs: opts.downloadTimeoutMs ?? config.processors.pdf.download_timeout_sec * 1000,
      maxBytes: opts.maxBytes,
      signal: opts.signal,
      guard: { allowPrivate: config.security.allow_private_urls, allowlist: config.security.url_allowlist },
      toPath: target,
    });
    const fromUrl = decodeURIComponent(new URL(res.finalUrl).pathname.split('/').pop() || '') || `document${opts.extension}`;
    return { path: target, name: original ?? fromUrl, source: 'url', url };
  }
  throw new SecretaryError('INVALID_PARAMETERS', 'give one of file_path, filename or url', {
    details: [{ path: '/parameters', problem: 'needs file_path, filename or url' }],
  });
};
