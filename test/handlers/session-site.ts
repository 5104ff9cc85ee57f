/**
 * What session tests talk to: a loopback "conference site" (session pages as HTML, an
 * attachments PDF generated with pdf-lib, 404s) that counts requests per path, and a recording
 * OpenAI-compatible model that answers a fixed reply and keeps every request body (a stand-in
 * for a real model that answers slide objects; the fake derives its values from the prompt).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { para } from '../processors/helpers/web-pages.js';
import { textPdf } from '../processors/helpers/make-docs.js';

export interface SiteResponse {
  status?: number;
  type: string;
  body: string | Uint8Array;
}

export interface SessionSite {
  base: string;
  hits: Map<string, number>;
  set(path: string, r: SiteResponse): void;
  close(): Promise<void>;
}

export const sessionPage = (
  title: string,
  speaker: string,
): string => `<!doctype html><html lang="en"><head><title>${title} | Conf 2025</title></head><body>
<nav><a href="/">Schedule</a></nav>
<article><h1>${title}</h1><p class="speaker">Speaker: ${speaker}</p>
<p>${para(1)}</p><p>${para(2)} Slides: <a href="/slides.pdf">slides</a>.</p><p>${para(3)}</p></article>
<footer>Imprint</footer></body></html>`;

export const SLIDES = [
  ['Slide one: Repair cafes', 'Schematics shared under open licences'],
  ['Slide two: Public money, public code', 'Funding models for maintainers'],
];

export const startSessionSite = async (): Promise<SessionSite> => {
  const routes = new Map<string, SiteResponse>();
  const hits = new Map<string, number>();
  routes.set('/slides.pdf', { type: 'application/pdf', body: await textPdf(SLIDES) });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const r = routes.get(path);
    res.writeHead(r?.status ?? (r ? 200 : 404), {
      'content-type': r?.type ?? 'text/html; charset=utf-8',
    });
    res.end(r ? r.body : 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    set: (path, r) => routes.set(path, r),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};

export interface RecordingModel {
  /** Base URL for an `openai`-kind provider. */
  base: string;
  bodies: Array<Record<string, any>>;
  close(): Promise<void>;
}

export const startRecordingModel = async (reply: () => string): Promise<RecordingModel> => {
  const bodies: Array<Record<string, any>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any>);
      } catch {
        bodies.push({});
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 0,
          model: 'recorded',
          choices: [
            { index: 0, message: { role: 'assistant', content: reply() }, finish_reason: 'stop' },
          ],
          usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};

/** The user message of a recorded chat request. */
export const userPrompt = (body: Record<string, any>): string =>
  String(
    (body.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'user')
      ?.content ?? '',
  );
