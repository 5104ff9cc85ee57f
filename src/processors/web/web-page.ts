/**
 * Web page → clean Markdown: fetched through the SSRF-guarded downloader (every hop checked,
 * time limit, size cap) with a desktop browser's User-Agent, decoded by its charset, the main
 * content picked by Readability (navigation, ads and scripts dropped), links made absolute, and
 * converted by turndown with GitHub tables. The original sent the raw HTML to the model.
 *
 * `htmlToMarkdown` is pure (tests, the session pipeline); `fetchWebPage` adds the download.
 */
import { Readability } from '@mozilla/readability';
import TurndownService from 'turndown';
import { gfm } from 'turndown-plugin-gfm';
import { SecretaryError } from '../../core/errors.js';
import { safeDownload } from '../../net/safe-fetch.js';
import type { GuardOptions } from '../../net/url-guard.js';
import { absolutise, parseDocument, type DomDocument } from './dom.js';

export interface WebPage {
  /** The final URL (after redirects). */
  url: string;
  title: string;
  /** The page's main content as Markdown. */
  markdown: string;
  byline: string | null;
  excerpt: string | null;
  site_name: string | null;
  /** Declared language (`<html lang>`), if any. */
  lang: string | null;
  /** The page as downloaded (decoded), for selector extraction. */
  html: string;
}

export interface FetchPageOptions {
  timeoutMs: number;
  maxBytes: number;
  guard: GuardOptions;
  signal?: AbortSignal;
  /** Default `DESKTOP_USER_AGENT` (some sites answer bots with an empty page). */
  userAgent?: string;
}

export const DESKTOP_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

const turndown = new TurndownService({
  headingStyle: 'atx',
  codeBlockStyle: 'fenced',
  bulletListMarker: '-',
  emDelimiter: '*',
});
turndown.use(gfm);
turndown.remove(['script', 'style', 'noscript', 'iframe', 'form', 'button'] as never);

const NOISE = 'script, style, noscript, template, iframe, nav, header, footer, aside, form, svg';

const metaContent = (doc: DomDocument, selector: string): string | null =>
  doc.querySelector(selector)?.getAttribute('content')?.trim() || null;

/** Makes every link and image of the document absolute (Readability and turndown keep them as written). */
const absolutiseLinks = (doc: DomDocument, pageUrl: string): void => {
  const baseHref = doc.querySelector('base[href]')?.getAttribute('href');
  const base = baseHref ? absolutise(baseHref, pageUrl) : pageUrl;
  for (const [selector, attr] of [
    ['a[href]', 'href'],
    ['img[src]', 'src'],
  ] as const) {
    const list = doc.querySelectorAll(selector);
    for (let i = 0; i < list.length; i++) {
      const el = list[i]!;
      el.setAttribute(attr, absolutise(el.getAttribute(attr) ?? '', base));
    }
  }
};

const tidy = (md: string): string =>
  md
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** The main content of an HTML page as Markdown (pure). */
export const htmlToMarkdown = (html: string, pageUrl: string): Omit<WebPage, 'html'> => {
  const doc = parseDocument(html);
  absolutiseLinks(doc, pageUrl);
  const lang = doc.documentElement.getAttribute('lang')?.trim() || null;
  let article: ReturnType<Readability['parse']> = null;
  try {
    article = new Readability(doc.cloneNode(true) as never, { charThreshold: 200 }).parse();
  } catch {
    article = null;
  }
  let content = article?.content ?? '';
  if (!content.trim()) {
    // not article-shaped (a list page, a table): the body without the page furniture
    const noise = Array.from(doc.querySelectorAll(NOISE));
    for (const el of noise) el.remove();
    content = doc.body?.innerHTML ?? html;
  }
  return {
    url: pageUrl,
    title: (
      article?.title ||
      doc.title ||
      metaContent(doc, 'meta[property="og:title"]') ||
      ''
    ).trim(),
    markdown: tidy(turndown.turndown(content)),
    byline: article?.byline?.trim() || metaContent(doc, 'meta[name="author"]'),
    excerpt: article?.excerpt?.trim() || metaContent(doc, 'meta[name="description"]'),
    site_name: article?.siteName?.trim() || metaContent(doc, 'meta[property="og:site_name"]'),
    lang: article?.lang?.trim() || lang,
  };
};

/** The charset from `Content-Type`, else from a `<meta>` in the first bytes, else UTF-8. */
const decode = (bytes: Buffer, contentType: string | null): string => {
  const header = /charset=["']?([\w-]+)/i.exec(contentType ?? '')?.[1];
  const head = bytes.subarray(0, 4096).toString('latin1');
  const meta = /<meta[^>]+charset=["']?([\w-]+)/i.exec(head)?.[1];
  for (const label of [header, meta, 'utf-8']) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // unknown label: try the next
    }
  }
  return bytes.toString('utf8');
};

const NOT_A_PAGE = /^(application\/(pdf|zip|octet-stream)|image\/|audio\/|video\/)/i;

/** Downloads a page (guarded) and returns its decoded HTML and final URL. */
export const fetchHtml = async (
  url: string,
  opts: FetchPageOptions,
): Promise<{ html: string; url: string; contentType: string | null }> => {
  const res = await safeDownload(url, {
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.maxBytes,
    guard: opts.guard,
    signal: opts.signal,
    headers: {
      'User-Agent': opts.userAgent ?? DESKTOP_USER_AGENT,
      Accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.8',
      'Accept-Language': 'de,en;q=0.8,*;q=0.5',
    },
  });
  if (res.contentType && NOT_A_PAGE.test(res.contentType)) {
    throw new SecretaryError(
      'UNSUPPORTED_FILE',
      `${url} is not a web page (${res.contentType.split(';')[0]}); send documents to the pdf job type instead`,
      { content_type: res.contentType },
    );
  }
  return {
    html: decode(res.buffer ?? Buffer.alloc(0), res.contentType),
    url: res.finalUrl,
    contentType: res.contentType,
  };
};

/** Downloads a page and returns its main content as Markdown, with title, byline and the HTML. */
export const fetchWebPage = async (url: string, opts: FetchPageOptions): Promise<WebPage> => {
  const page = await fetchHtml(url, opts);
  if (/^text\/(plain|markdown)/i.test(page.contentType ?? '')) {
    const title = /^#\s+(.+)$/m.exec(page.html)?.[1]?.trim() ?? '';
    return {
      url: page.url,
      title,
      markdown: page.html.trim(),
      byline: null,
      excerpt: null,
      site_name: null,
      lang: null,
      html: page.html,
    };
  }
  return { ...htmlToMarkdown(page.html, page.url), html: page.html };
};
