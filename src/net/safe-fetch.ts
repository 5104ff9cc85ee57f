/**
 * Guarded downloads for job inputs (PDF by URL, media, …): every hop is checked by the SSRF
 * guard and connected to the vetted address; at most 5 redirects; a time limit for the whole
 * download; a size cap enforced on `Content-Length` and while streaming.
 *
 * Errors (SecretaryError): `URL_NOT_ALLOWED` (scheme, private target, also after a redirect),
 * `URL_NOT_FOUND` (404/410), `FILE_TOO_LARGE`, `DOWNLOAD_FAILED` (network, other HTTP status,
 * timeout, too many redirects).
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SecretaryError } from '../core/errors.js';
import { SECRETARY_VERSION } from '../webhooks/delivery-policy.js';
import { checkUrl, safeUrlText, type GuardOptions } from './url-guard.js';

export interface DownloadOptions {
  /** Whole download, all hops. */
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  guard: GuardOptions;
  /** Write to this file instead of returning a buffer (removed again on failure). */
  toPath?: string;
  /** Default 5. */
  maxRedirects?: number;
  /** Extra request headers (e.g. a browser `User-Agent` and `Accept` for web pages). */
  headers?: Record<string, string>;
}

export interface DownloadResult {
  buffer: Buffer | null;
  path: string | null;
  contentType: string | null;
  finalUrl: string;
  bytes: number;
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

const open = (url: string, opts: DownloadOptions, signal: AbortSignal): Promise<IncomingMessage> =>
  checkUrl(url, opts.guard).then(
    (target) =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
        const req = send(target.url, {
          method: 'GET',
          headers: {
            'User-Agent': `Secretary/${SECRETARY_VERSION}`,
            Accept: '*/*',
            ...opts.headers,
            'Accept-Encoding': 'identity',
          },
          lookup: target.lookup as never,
          agent: false,
          signal,
        });
        req.on('response', resolve);
        req.on('error', reject);
        req.end();
      }),
  );

const failed = (url: string, why: string): SecretaryError =>
  new SecretaryError('DOWNLOAD_FAILED', `download of ${safeUrlText(url)} failed: ${why}`);

export const safeDownload = async (url: string, opts: DownloadOptions): Promise<DownloadResult> => {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, Math.max(1, opts.timeoutMs));
  const onAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const maxRedirects = opts.maxRedirects ?? 5;
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      let res: IncomingMessage;
      try {
        res = await open(current, opts, controller.signal);
      } catch (err) {
        if (err instanceof SecretaryError) throw err;
        if (timedOut) throw failed(current, `no complete answer within ${opts.timeoutMs} ms`);
        if (opts.signal?.aborted) throw opts.signal.reason ?? err;
        const e = err as { code?: string; message?: string };
        throw failed(current, e.code ? `${e.code} ${e.message ?? ''}`.trim() : (e.message ?? String(err)));
      }
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hop >= maxRedirects) throw failed(url, `more than ${maxRedirects} redirects`);
        current = new URL(res.headers.location, current).toString();
        continue;
      }
      if (status === 404 || status === 410) {
        res.resume();
        throw new SecretaryError('URL_NOT_FOUND', `${safeUrlText(current)} answered ${status}`);
      }
      if (status < 200 || status >= 300) {
        res.resume();
        throw failed(current, `HTTP ${status}`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        res.destroy();
        throw new SecretaryError('FILE_TOO_LARGE', `${safeUrlText(current)} is ${mb(declared)}; the limit is ${mb(opts.maxBytes)}`);
      }
      const body = await readBody(res, opts, current, () => timedOut);
      return { ...body, contentType: res.headers['content-type'] ?? null, finalUrl: current };
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
};

const readBody = async (
  res: IncomingMessage,
  opts: DownloadOptions,
  url: string,
  timedOut: () => boolean,
): Promise<{ buffer: Buffer | null; path: string | null; bytes: number }> => {
  const file = opts.toPath ? createWriteStream(opts.toPath) : null;
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) {
        res.destroy();
        throw new SecretaryError('FILE_TOO_LARGE', `${safeUrlText(url)} exceeds the limit of ${mb(opts.maxBytes)}`);
      }
      if (file) {
        if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
      } else chunks.push(chunk);
    }
    if (file) {
      await new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.end(() => resolve());
      });
    }
    return { buffer: file ? null : Buffer.concat(chunks), path: opts.toPath ?? null, bytes };
  } catch (err) {
    if (file) {
      file.destroy();
      await rm(opts.toPath as string, { force: true }).catch(() => {});
    }
    if (err instanceof SecretaryError) throw err;
    if (timedOut()) throw failed(url, `no complete answer within ${opts.timeoutMs} ms`);
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    throw failed(url, (err as Error).message);
  }
};
