/**
 * A real webhook receiver on 127.0.0.1 (port 0) for tests: records every request (headers,
 * raw body, parsed JSON, arrival time) and answers as told: normally, slowly, with a status
 * code, by destroying the socket before any response byte, or not at all (black hole).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A parsed JSON body from the wire; the tests assert its shape. */
 
export type WireJson = Record<string, any>;

export interface ReceivedRequest {
  url: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: WireJson;
  at: number;
  /** What the receiver did with it. */
  answer: string;
}

export type Answer =
  | {
      kind: 'ok';
      status?: number;
      delayMs?: number;
      headers?: Record<string, string>;
      /** Answer only when this settles (a synchronous receiver doing work, e.g. downloads). */
      until?: Promise<unknown>;
    }
  | { kind: 'reset' }
  | { kind: 'blackhole' };

export type Behaviour = (req: Omit<ReceivedRequest, 'answer'>, index: number) => Answer;

export interface Receiver {
  url: (path?: string) => string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests that got an answer (status line sent). */
  answered: () => ReceivedRequest[];
  setBehaviour: (b: Behaviour) => void;
  close: () => Promise<void>;
}

export const startReceiver = async (behaviour: Behaviour = () => ({ kind: 'ok' })): Promise<Receiver> => {
  let current = behaviour;
  const requests: ReceivedRequest[] = [];
  let index = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: WireJson = {};
      try {
        body = JSON.parse(raw) as WireJson;
      } catch {
        body = {};
      }
      const base = { url: req.url ?? '', headers: req.headers, raw, body, at: Date.now() };
      const a = current(base, index++);
      const rec: ReceivedRequest = { ...base, answer: a.kind === 'ok' ? String(a.status ?? 200) : a.kind };
      requests.push(rec);
      if (a.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (a.kind === 'blackhole') return;
      const respond = () => {
        if (res.destroyed) return;
        res.writeHead(a.status ?? 200, { 'Content-Type': 'application/json', ...(a.headers ?? {}) });
        res.end(JSON.stringify({ status: 'ok' }));
      };
      if (a.until) void a.until.then(respond, respond);
      else if (a.delayMs) setTimeout(respond, a.delayMs);
      else respond();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    requests,
    answered: () => requests.filter((r) => /^\d+$/.test(r.answer)),
    setBehaviour: (b) => {
      current = b;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
};
