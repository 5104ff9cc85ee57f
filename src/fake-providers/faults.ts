/** Scripted faults per route, consumed in order by the next matching requests. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, sendJson, sleep } from './http-io.js';
import type { FakeRoute, Fault } from './types.js';

const MODEL_ROUTES = new Set<FakeRoute>([
  'openai.chat',
  'openai.transcriptions',
  'mistral.chat',
  'mistral.ocr',
]);

export class FaultQueue {
  private readonly queues = new Map<FakeRoute | '*', Fault[]>();

  push(route: FakeRoute | '*', faults: Fault[]): void {
    const q = this.queues.get(route) ?? [];
    q.push(...faults);
    this.queues.set(route, q);
  }

  /** The next fault for this route: its own queue first, then the `*` queue (model routes only). */
  take(route: FakeRoute): Fault | null {
    const own = this.queues.get(route);
    if (own?.length) return own.shift()!;
    const any = this.queues.get('*');
    if (MODEL_ROUTES.has(route) && any?.length) return any.shift()!;
    return null;
  }

  clear(): void {
    this.queues.clear();
  }
}

/** In-band directives in a prompt, e.g. `[[fake:status=500]]`, `[[fake:malformed_once]]`. */
export interface Directives {
  status?: number;
  delayMs?: number;
  malformed?: boolean;
  malformedOnce?: boolean;
  fence?: boolean;
  empty?: boolean;
}

export const parseDirectives = (text: string): Directives => {
  const d: Directives = {};
  for (const m of text.matchAll(/\[\[fake:([a-z_]+)(?:=([^\]]*))?\]\]/g)) {
    const [, name, value] = m;
    if (name === 'status' && value) d.status = Number(value);
    else if (name === 'delay' && value) d.delayMs = Number(value);
    else if (name === 'malformed') d.malformed = true;
    else if (name === 'malformed_once') d.malformedOnce = true;
    else if (name === 'fence') d.fence = true;
    else if (name === 'empty') d.empty = true;
  }
  return d;
};

/**
 * Answers a request with a scripted fault. True: the fault answered (or dropped) the request;
 * false: answer normally (after the fault's delay).
 */
export const applyFault = async (
  ctx: { req: IncomingMessage; res: ServerResponse; signal: AbortSignal },
  fault: Fault,
): Promise<boolean> => {
  if ('delayMs' in fault) {
    await sleep(fault.delayMs, ctx.signal);
    return false;
  }
  // the body is read so the client is not stuck writing it
  for await (const _ of ctx.req) void _;
  if ('hang' in fault) {
    await new Promise<void>((r) =>
      ctx.signal.aborted ? r() : ctx.signal.addEventListener('abort', () => r()),
    );
    return true;
  }
  if ('reset' in fault) {
    ctx.req.socket.destroy();
    return true;
  }
  if ('malformed' in fault) {
    ctx.res.writeHead(200, { 'content-type': 'application/json' });
    ctx.res.end('{"id": "broken", "choices": [');
    return true;
  }
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  sendJson(
    ctx.res,
    fault.status,
    errorBody(fault.status, fault.message ?? `scripted HTTP ${fault.status}`),
    headers,
  );
  return true;
};
