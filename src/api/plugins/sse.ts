/**
 * Server-Sent Events helper. A stream writes `retry:` first, then events as
 * `id: <id>\nevent: <name>\ndata: <one-line json>\n\n`, and `: heartbeat` comments every
 * `heartbeatMs`. The plugin tracks open streams and ends them when the server closes, so
 * `app.close()` never waits on a long-lived stream.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { globalPlugin } from './global-plugin.js';

export interface EventStream {
  /** One event; `data` is serialised to a single line of JSON. */
  send(event: string, data: unknown, id?: number | string | null): void;
  comment(text: string): void;
  /** Ends the response (idempotent). */
  close(): void;
  readonly closed: boolean;
  /** Called once when the stream ends (client gone, `close()`, server shutdown). */
  onClose(fn: () => void): void;
}

export interface SseRegistry {
  open(request: FastifyRequest, reply: FastifyReply, opts: { heartbeatMs: number; retryMs?: number }): EventStream;
  readonly size: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    sse: SseRegistry;
  }
}

/** `Last-Event-ID` header (EventSource reconnects) or `last_event_id` query; null if absent or not a number. */
export const lastEventId = (request: FastifyRequest): number | null => {
  const h = request.headers['last-event-id'];
  const q = (request.query as Record<string, unknown> | undefined)?.last_event_id;
  const raw = typeof h === 'string' ? h : typeof q === 'string' ? q : null;
  if (raw === null || !/^\d{1,15}$/.test(raw.trim())) return null;
  return Number(raw.trim());
};

export const ssePlugin = globalPlugin('secretary-sse', async (app: FastifyInstance) => {
  const open = new Set<EventStream>();
  const registry: SseRegistry = {
    get size() {
      return open.size;
    },
    open(request, reply, opts) {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      if (typeof res.socket?.setNoDelay === 'function') res.socket.setNoDelay(true);
      let closed = false;
      const closers: (() => void)[] = [];
      const write = (s: string): void => {
        if (!closed && !res.writableEnded) res.write(s);
      };
      const finish = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(beat);
        open.delete(stream);
        if (!res.writableEnded) res.end();
        for (const fn of closers.splice(0)) {
          try {
            fn();
          } catch (err) {
            request.log.warn({ err }, 'sse close callback failed');
          }
        }
      };
      const beat = setInterval(() => write(': heartbeat\n\n'), Math.max(10, opts.heartbeatMs));
      beat.unref();
      const stream: EventStream = {
        send(event, data, id) {
          const json = JSON.stringify(data ?? null).replace(/\u2028|\u2029/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
          write(`${id === null || id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`);
        },
        comment(text) {
          write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
        },
        close: finish,
        get closed() {
          return closed;
        },
        onClose(fn) {
          if (closed) fn();
          else closers.push(fn);
        },
      };
      open.add(stream);
      request.raw.on('close', finish);
      res.on('close', finish);
      res.on('error', finish);
      write(`retry: ${opts.retryMs ?? 3000}\n\n`);
      return stream;
    },
  };
  app.decorate('sse', registry);
  app.addHook('preClose', async () => {
    for (const s of [...open]) s.close();
  });
});
