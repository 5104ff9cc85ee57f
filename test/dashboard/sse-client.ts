/** A live SSE reader over real HTTP for tests: collects events as they arrive. */
import { request, type ClientRequest } from 'node:http';

export interface SseEvent {
  event: string;
  id: string | null;
  data: any;
}

export interface SseConnection {
  status: number;
  contentType: string;
  events: SseEvent[];
  heartbeats: number;
  /** Resolves with the first event (already received or later) that matches, or rejects after `ms`. */
  waitFor(match: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>;
  close(): void;
}

/** Opens a stream; resolves once the response headers are in (any status). */
export const openSse = (url: string, headers: Record<string, string> = {}): Promise<SseConnection> =>
  new Promise((resolve, reject) => {
    let req: ClientRequest | null = null;
    req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const conn: SseConnection = {
        status: res.statusCode ?? 0,
        contentType: String(res.headers['content-type'] ?? ''),
        events: [],
        heartbeats: 0,
        waitFor: (match, ms = 8000) =>
          new Promise((ok, fail) => {
            const found = conn.events.find(match);
            if (found) return ok(found);
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no matching SSE event within ${ms} ms; got ${JSON.stringify(conn.events.map((e) => [e.event, e.data?.status ?? null]))}`));
            }, ms);
            const check = (e: SseEvent): void => {
              if (!match(e)) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok(e);
            };
            waiters.add(check);
          }),
        close: () => req?.destroy(),
      };
      const waiters = new Set<(e: SseEvent) => void>();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const lines = block.split('\n').filter(Boolean);
          if (lines.length && lines.every((l) => l.startsWith(':'))) {
            conn.heartbeats += 1;
            continue;
          }
          const ev: SseEvent = { event: 'message', id: null, data: null };
          let isEvent = false;
          for (const l of lines) {
            if (l.startsWith('event: ')) {
              ev.event = l.slice(7);
              isEvent = true;
            } else if (l.startsWith('id: ')) ev.id = l.slice(4);
            else if (l.startsWith('data: ')) ev.data = JSON.parse(l.slice(6));
          }
          if (!isEvent) continue;
          conn.events.push(ev);
          for (const w of [...waiters]) w(ev);
        }
      });
      res.on('error', () => undefined);
      resolve(conn);
    });
    req.on('error', (err) => reject(err));
    req.end();
  });
