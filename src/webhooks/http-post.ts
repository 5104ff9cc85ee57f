/**
 * One webhook POST over node's `http`/`https`, reporting exactly how far it got, because the
 * delivery policy depends on it:
 * - `response`: the receiver answered (any status; 3xx is an answer, redirects are not followed);
 * - `not_delivered`: no response bytes arrived and the connection failed (refused, reset or
 *   closed before an answer, TLS error) or the connection could not even be opened in time;
 * - `no_answer`: the request was fully sent but no answer came within the timeout (or the
 *   dispatcher shut down while waiting): the receiver may be processing it.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CheckedUrl } from '../net/url-guard.js';

export type PostResult =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders; latencyMs: number }
  | { kind: 'not_delivered'; error: string; latencyMs: number }
  | { kind: 'no_answer'; error: string; latencyMs: number };

export interface PostOptions {
  target: CheckedUrl;
  headers: OutgoingHttpHeaders;
  body: string;
  /** Whole request, from connect to the response status line. */
  timeoutMs: number;
  /** Aborting counts like a timeout (shutdown). */
  signal?: AbortSignal;
}

/** At most this much of the answer is read (and then dropped). */
const MAX_ANSWER_BYTES = 64 * 1024;

const errorText = (err: unknown): string => {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message ?? ''}`.trim() : (e?.message ?? String(err));
};

export const postJson = (opts: PostOptions): Promise<PostResult> =>
  new Promise((resolve) => {
    const started = Date.now();
    const latency = () => Date.now() - started;
    let settled = false;
    let sent = false;
    let timer: NodeJS.Timeout | null = null;
    const settle = (r: PostResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const { url, lookup } = opts.target;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let req: ReturnType<typeof httpRequest>;
    try {
      req = send(url, {
        method: 'POST',
        headers: { ...opts.headers, 'Content-Length': Buffer.byteLength(opts.body) },
        lookup: lookup as never,
        agent: false,
      });
    } catch (err) {
      // invalid header values and the like: nothing was sent
      settle({ kind: 'not_delivered', error: `request not built: ${errorText(err)}`, latencyMs: latency() });
      return;
    }
    const giveUp = (why: string): void => {
      if (sent) settle({ kind: 'no_answer', error: why, latencyMs: latency() });
      else settle({ kind: 'not_delivered', error: `${why} before the request was sent`, latencyMs: latency() });
      req.destroy();
    };
    function onAbort(): void {
      giveUp('aborted (shutdown)');
    }
    timer = setTimeout(() => giveUp(`no answer within ${opts.timeoutMs} ms`), Math.max(1, opts.timeoutMs));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('finish', () => {
      sent = true;
    });
    req.on('response', (res) => {
      settle({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, latencyMs: latency() });
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      res.on('error', () => {});
      res.resume();
    });
    req.on('error', (err) => {
      // no response bytes arrived (a response would have settled first): not delivered
      settle({ kind: 'not_delivered', error: errorText(err), latencyMs: latency() });
    });
    req.end(opts.body);
  });
