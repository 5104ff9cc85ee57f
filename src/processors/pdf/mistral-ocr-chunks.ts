/**
 * Cutting a page range into OCR requests the API accepts (at most `maxPages` pages and
 * `maxBytes` per upload) and sending them concurrently. A document that fits is sent as the
 * original file with the range's 0-based `pages`; otherwise each chunk is copied into its own PDF on
 * the CPU pool (a chunk over the byte limit is halved until it fits). Every chunk's answer
 * must have one page per page asked for; a chunk that fails names its pages (`page 51–100`).
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  coerceError,
  RetryLaterError,
  SecretaryError,
  UnrecoverableError,
} from '../../core/errors.js';
import { abortError, mapLimited, throwIfAborted } from '../abort.js';
import type { CpuPool } from '../../worker/cpu-pool.js';
import type { OcrResult } from '../llm/types.js';
import { runSplitPdf } from './pdf-tasks.js';

/** One OCR request of the provider; the caller binds the gateway (usage, cache, purpose). */
export type OcrCaller = (req: {
  filePath: string;
  /** 0-based pages of `filePath`. */
  pages: number[];
  includeImageBase64: boolean;
  signal: AbortSignal;
}) => Promise<OcrResult>;

/** Real 1-based pages `first..last` of the document. */
export interface PageSpan {
  first: number;
  last: number;
}

/** What one chunk request sent, for the result and the logs. */
export interface ChunkReport {
  pages: string;
  bytes: number;
  attempts: number;
  /** A copy of the chunk's pages, or the original file with a `pages` list. */
  split: boolean;
}

export const spanLabel = (s: PageSpan): string =>
  s.first === s.last ? `page ${s.first}` : `page ${s.first}–${s.last}`;

/** Consecutive spans of at most `maxPages` pages covering `first..last`. */
export const planSpans = (first: number, last: number, maxPages: number): PageSpan[] => {
  const size = Math.max(1, Math.floor(maxPages));
  const spans: PageSpan[] = [];
  for (let p = first; p <= last; p += size)
    spans.push({ first: p, last: Math.min(last, p + size - 1) });
  return spans;
};

const range = (s: PageSpan): number[] =>
  Array.from({ length: s.last - s.first + 1 }, (_, i) => s.first + i);

/** Adds the chunk's pages to an error, keeping its class (retry later, fail now, retryable). */
export const errorInSpan = (err: unknown, span: PageSpan): Error => {
  const e = coerceError(err);
  if (!(e instanceof SecretaryError) || e.code === 'CANCELLED' || e.code === 'PROCESSING_TIMEOUT') {
    return e;
  }
  const label = spanLabel(span);
  const message = `Mistral OCR failed for ${label}: ${e.message}`;
  const details = { ...(e.details ?? {}), pages: label };
  if (e instanceof RetryLaterError) return new RetryLaterError(message, e.delayMs, e.code);
  if (e instanceof UnrecoverableError) return new UnrecoverableError(message, e.code, details);
  return new SecretaryError(e.code, message, details);
};

export interface ChunkRunOptions {
  filePath: string;
  /** Size of `filePath` in bytes. */
  fileBytes: number;
  /** Pages of the whole document. */
  pageCount: number;
  first: number;
  last: number;
  maxPages: number;
  maxBytes: number;
  /** Extra attempts of a chunk whose answer does not fit the pages asked for. */
  retries: number;
  /** Chunks in flight at once. */
  concurrency: number;
  includeImageBase64: boolean;
  /** Where chunk copies are written (removed again after each chunk). */
  tmpDir: string;
  ocr: OcrCaller;
  pool: CpuPool;
  signal: AbortSignal;
  /** Called with each chunk's answer as it arrives; `pageNumbers[i]` is the real page of `pages[i]`. */
  onAnswer: (
    answer: OcrResult,
    pageNumbers: number[],
    span: PageSpan,
    seq: number,
  ) => Promise<void>;
}

interface Prepared {
  span: PageSpan;
  filePath: string;
  /** 0-based pages of `filePath` to ask for. */
  pages: number[];
  bytes: number;
  split: boolean;
}

/** The file(s) for one span: its own PDF, halved while it is over the byte limit. */
const prepare = async (o: ChunkRunOptions, span: PageSpan, seq: string): Promise<Prepared[]> => {
  // the original file goes as it is only when the whole document fits one request (the API's
  // limits are per document); otherwise the span's pages are copied into a small PDF
  const whole = o.first === span.first && o.last === span.last;
  if (whole && o.pageCount <= o.maxPages && o.fileBytes <= o.maxBytes) {
    const pages = range(span).map((p) => p - 1);
    return [{ span, filePath: o.filePath, pages, bytes: o.fileBytes, split: false }];
  }
  const outPath = path.join(o.tmpDir, `chunk-${seq}.pdf`);
  const res = await runSplitPdf(
    { filePath: o.filePath, pages: range(span), outPath },
    o.signal,
    o.pool,
  );
  if (res.status === 'error') {
    throw new SecretaryError(
      'CORRUPT_FILE',
      `${spanLabel(span)} cannot be copied for OCR: ${res.message}`,
      {
        pages: spanLabel(span),
      },
    );
  }
  if (res.bytes <= o.maxBytes) {
    return [
      {
        span,
        filePath: outPath,
        pages: range({ first: 0, last: span.last - span.first }),
        bytes: res.bytes,
        split: true,
      },
    ];
  }
  await rm(outPath, { force: true });
  if (span.first === span.last) {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    throw new UnrecoverableError(
      `${spanLabel(span)} alone is ${mb(res.bytes)}, above the OCR upload limit of ${mb(o.maxBytes)} (processors.pdf.mistral.max_request_mb); reduce the page's image resolution or use another method`,
      'FILE_TOO_LARGE',
      { pages: spanLabel(span), bytes: res.bytes, max_bytes: o.maxBytes },
    );
  }
  const mid = span.first + Math.floor((span.last - span.first) / 2);
  const a = await prepare(o, { first: span.first, last: mid }, `${seq}a`);
  const b = await prepare(o, { first: mid + 1, last: span.last }, `${seq}b`);
  return [...a, ...b];
};

/** What is wrong with an answer for `asked` pages, or null. */
const answerProblem = (answer: OcrResult, asked: number): string | null => {
  if (answer.pages.length !== asked) {
    return `the answer has ${answer.pages.length} pages for ${asked} pages asked`;
  }
  return null;
};

/**
 * The answer's pages in the order asked: by `index` when the indexes are exactly the pages
 * asked (the API's documented form), else as they came.
 */
const inAskedOrder = (answer: OcrResult, asked: readonly number[]): OcrResult['pages'] => {
  const byIndex = new Map(answer.pages.map((p) => [p.index, p]));
  const exact = byIndex.size === asked.length && asked.every((i) => byIndex.has(i));
  return exact ? asked.map((i) => byIndex.get(i)!) : answer.pages;
};

const sendChunk = async (o: ChunkRunOptions, c: Prepared, seq: number): Promise<ChunkReport> => {
  const label = spanLabel(c.span);
  let problem = '';
  for (let attempt = 1; attempt <= o.retries + 1; attempt++) {
    throwIfAborted(o.signal);
    const answer = await o.ocr({
      filePath: c.filePath,
      pages: c.pages,
      includeImageBase64: o.includeImageBase64,
      signal: o.signal,
    });
    const wrong = answerProblem(answer, c.pages.length);
    if (wrong === null) {
      await o.onAnswer(
        { ...answer, pages: inAskedOrder(answer, c.pages) },
        range(c.span),
        c.span,
        seq,
      );
      return { pages: label, bytes: c.bytes, attempts: attempt, split: c.split };
    }
    problem = wrong;
  }
  throw new UnrecoverableError(
    `Mistral OCR failed for ${label}: ${problem} (${o.retries + 1} attempts)`,
    'LLM_BAD_RESPONSE',
    { pages: label },
  );
};

/**
 * Sends every chunk of `first..last` (at most `concurrency` at once) and hands each answer to
 * `onAnswer`. The first failure stops the others (their requests are aborted) and is thrown
 * with the failing chunk's pages in its message.
 */
export const runOcrChunks = async (o: ChunkRunOptions): Promise<ChunkReport[]> => {
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  const opts: ChunkRunOptions = { ...o, signal };
  const spans = planSpans(o.first, o.last, o.maxPages);
  let seq = 0;
  const reports: ChunkReport[][] = await mapLimited(
    spans,
    Math.max(1, o.concurrency),
    async (span, i) => {
      try {
        const prepared = await prepare(opts, span, String(i));
        const out: ChunkReport[] = [];
        for (const c of prepared) {
          try {
            out.push(await sendChunk(opts, c, seq++));
          } catch (err) {
            throw errorInSpan(err, c.span);
          } finally {
            if (c.split) await rm(c.filePath, { force: true });
          }
        }
        return out;
      } catch (err) {
        if (o.signal.aborted) throw abortError(o.signal);
        const e = coerceError(err);
        if (!stop.signal.aborted) stop.abort(e);
        throw e;
      }
    },
    signal,
  ).catch((err: unknown) => {
    if (o.signal.aborted) throw abortError(o.signal);
    // the first failure aborted the others: report it, not their abort errors
    const first = stop.signal.reason as unknown;
    throw first instanceof Error ? first : err;
  });
  return reports.flat();
};

/** Bytes of a file. */
export const fileSize = async (filePath: string): Promise<number> => (await stat(filePath)).size;
