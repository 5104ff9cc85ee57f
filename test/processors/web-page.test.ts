/**
 * Web page → Markdown: the pure conversion, and the guarded download against a real loopback
 * server (browser User-Agent, charset, redirects, size cap, non-pages refused).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import { parseDocument } from '../../src/processors/web/index.js';
import {
  DESKTOP_USER_AGENT,
  fetchWebPage,
  htmlToMarkdown,
} from '../../src/processors/web/web-page.js';
import { scrapeContainers, splitSelector } from '../../src/processors/transformer/index.js';
import { ARTICLE, LIST_PAGE, para } from './helpers/web-pages.js';

describe('htmlToMarkdown', () => {
  it('keeps the article, drops navigation and scripts, makes links absolute, keeps tables', () => {
    const page = htmlToMarkdown(ARTICLE, 'https://conf.example/program/day1');
    expect(page.title).toBe('Open Hardware | Conf');
    expect(page.byline).toBe('Jane Doe');
    expect(page.lang).toBe('de');
    expect(page.markdown).toContain('Paragraph 2: open hardware');
    expect(page.markdown).toContain('[the talk page](https://conf.example/talks/42)');
    expect(page.markdown).toContain('![Photo](https://conf.example/program/img/photo.png)');
    expect(page.markdown).toMatch(
      /\| Day \| Room \|\n\| --- \| --- \|\n\| 2024-11-08 \| Seminar 2 \|/,
    );
    expect(page.markdown).not.toContain('tracking');
    expect(page.markdown).not.toContain('Impressum');
    expect(page.markdown).not.toContain('[About]');
  });

  it('falls back to the body of pages that are no article', () => {
    const page = htmlToMarkdown(LIST_PAGE, 'https://sfscon.example/');
    expect(page.markdown).toContain('[Talk 3](https://sfscon.example/talk/3)');
    expect(page.title).toBe('Program');
  });
});

describe('scrapeContainers (selector extraction, rule-based part)', () => {
  const containers = Array.from(
    parseDocument(LIST_PAGE).querySelectorAll('li.single-element.sfscon'),
  );

  it('reads text and attributes per container, absolute links, skips empty items', () => {
    const { items, warnings } = scrapeContainers(
      containers,
      {
        title: 'a.title',
        link: 'a.title@href',
        speaker: '.speaker',
        start: 'time',
        missing: '.nothing',
        self: ':scope@class',
      },
      'https://sfscon.example/program',
    );
    expect(warnings).toEqual([]);
    expect(items).toHaveLength(4);
    expect(items[0]).toEqual({
      title: 'Talk 1',
      link: 'https://sfscon.example/talk/1',
      speaker: 'Speaker 1',
      start: '11:00',
      missing: null,
      self: 'single-element sfscon',
    });
    expect(items[3]).toMatchObject({ title: null, self: 'single-element sfscon' });
  });

  it('turns a bad selector into null values and a warning, not a failure', () => {
    const { items, warnings } = scrapeContainers(
      containers,
      { title: 'a.title', bad: 'a[[' },
      'https://x.example/',
    );
    expect(items.map((i) => i.title)).toEqual(['Talk 1', 'Talk 2', 'Talk 3']);
    expect(warnings).toEqual(['bad: selector "a[[" is not valid CSS']);
    expect(splitSelector('img.photo @src')).toEqual({ selector: 'img.photo', attr: 'src' });
    expect(splitSelector('a[href*="@"]')).toEqual({ selector: 'a[href*="@"]', attr: null });
  });
});

describe('fetchWebPage', () => {
  let server: Server;
  let base: string;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/latin1') {
        res.writeHead(200, { 'content-type': 'text/html; charset=iso-8859-1' });
        res.end(
          Buffer.from(
            `<html><head><title>Gr\u00fcn</title></head><body><article><h1>Gr\u00fcnfl\u00e4chen</h1><p>${para(1)} \u00c4pfel und Birnen.</p><p>${para(2)}</p></article></body></html>`,
            'latin1',
          ),
        );
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/article' });
        res.end();
      } else if (req.url === '/article') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(ARTICLE);
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<html><body>${'x'.repeat(300_000)}</body></html>`);
      } else if (req.url === '/doc.pdf') {
        res.writeHead(200, { 'content-type': 'application/pdf' });
        res.end('%PDF-1.7');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const opts = (over: Partial<Parameters<typeof fetchWebPage>[1]> = {}) => ({
    timeoutMs: 5000,
    maxBytes: 100_000,
    guard: { allowPrivate: true, allowlist: [] },
    ...over,
  });

  it('follows redirects, sends a desktop User-Agent and returns the final URL and the HTML', async () => {
    const page = await fetchWebPage(`${base}/moved`, opts());
    expect(page.url).toBe(`${base}/article`);
    expect(page.markdown).toContain(`[the talk page](${base}/talks/42)`);
    expect(page.html).toContain('<nav>');
    expect(seen.at(-1)?.['user-agent']).toBe(DESKTOP_USER_AGENT);
    expect(seen.at(-1)?.accept).toMatch(/^text\/html/);
  });

  it('decodes the declared charset', async () => {
    const page = await fetchWebPage(`${base}/latin1`, opts());
    expect(page.title).toBe('Grün');
    expect(page.markdown).toContain('Äpfel und Birnen');
  });

  it('refuses private addresses by default, oversize pages, 404s and documents with stable codes', async () => {
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof SecretaryError ? e.code : String(e)),
      );
    expect(
      await code(
        fetchWebPage(`${base}/article`, opts({ guard: { allowPrivate: false, allowlist: [] } })),
      ),
    ).toBe('URL_NOT_ALLOWED');
    expect(await code(fetchWebPage(`${base}/big`, opts()))).toBe('FILE_TOO_LARGE');
    expect(await code(fetchWebPage(`${base}/gone`, opts()))).toBe('URL_NOT_FOUND');
    expect(await code(fetchWebPage(`${base}/doc.pdf`, opts()))).toBe('UNSUPPORTED_FILE');
  });
});
