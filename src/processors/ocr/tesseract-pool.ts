/**
 * A small pool of reusable tesseract.js workers. Creating a worker (WASM + language data) costs
 * about a second, so workers are kept and reused, and stopped after they were idle for a while.
 * tesseract.js runs every worker in its own `worker_threads` thread in Node, so recognition
 * never blocks the event loop; this module only queues requests and moves image bytes.
 */
import { availableParallelism } from 'node:os';
import { createWorker } from 'tesseract.js';
import type { Worker as TesseractWorker } from 'tesseract.js';
import { SecretaryError, coerceError } from '../../core/errors.js';
import { abortError, raceAbort } from '../abort.js';
import { installedLanguages, prepareLangPath } from './lang-data.js';

export interface OcrPoolOptions {
  /** Tesseract languages, tried together (`deu+eng`). Default: `['deu', 'eng']`. */
  langs?: string[];
  /** Workers at most. Default: `min(os.availableParallelism(), 4)`. */
  size?: number;
  /** A worker idle this long is stopped. Default: 30 000 ms. */
  idleTimeoutMs?: number;
}

export interface OcrRequest {
  /** Encoded image: PNG, JPEG, TIFF, GIF, BMP or PNM (PGM/PPM). */
  image: Uint8Array;
  /** Resolution of the image; skips Tesseract's guess. */
  dpi?: number;
  /** Page segmentation mode. Default: 3 (fully automatic, like the original `--psm 3`). */
  psm?: number;
  signal?: AbortSignal;
}

export interface OcrResult {
  text: string;
  /** Mean word confidence 0..100. */
  confidence: number;
  /** Languages used, e.g. `deu+eng`. */
  langs: string;
}

/**
 * The Node `worker_threads` Worker inside a tesseract.js worker (not in its typings). Idle
 * threads are unref'd so that they do not keep a finished process alive.
 */
const thread = (w: TesseractWorker): { ref(): void; unref(): void } | null => {
  const inner = (w as unknown as { worker?: unknown }).worker;
  if (inner && typeof (inner as { unref?: unknown }).unref === 'function') {
    return inner as { ref(): void; unref(): void };
  }
  return null;
};

interface PoolWorker {
  worker: TesseractWorker;
  langs: string;
  idleTimer: NodeJS.Timeout | null;
}

export class TesseractPool {
  readonly size: number;
  private readonly langs: string[];
  private readonly idleTimeoutMs: number;
  private readonly idle: PoolWorker[] = [];
  private readonly waiters: Array<{
    resolve: (w: PoolWorker) => void;
    reject: (e: Error) => void;
  }> = [];
  private live = 0;
  private closed = false;

  constructor(options: OcrPoolOptions = {}) {
    this.langs = options.langs ?? ['deu', 'eng'];
    this.size = Math.max(1, options.size ?? Math.min(availableParallelism(), 4));
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  /** Recognises the text of one image. Aborting `signal` stops the worker running it. */
  async recognize(req: OcrRequest): Promise<OcrResult> {
    const { signal } = req;
    if (signal?.aborted) throw abortError(signal);
    const pw = await this.acquire(signal);
    let discarded = false;
    const onAbort = (): void => {
      discarded = true;
      this.discard(pw);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await pw.worker.setParameters({
        tessedit_pageseg_mode: String(req.psm ?? 3) as never,
        user_defined_dpi: req.dpi ? String(Math.round(req.dpi)) : '0',
      });
      const image = Buffer.from(req.image.buffer, req.image.byteOffset, req.image.byteLength);
      const { data } = await raceAbort(pw.worker.recognize(image), signal);
      return { text: data.text, confidence: data.confidence, langs: pw.langs };
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      // A failed recognition may leave the worker in a bad state: replace it.
      discarded = true;
      this.discard(pw);
      if (err instanceof SecretaryError) throw err;
      throw new SecretaryError(
        'OCR_FAILED',
        `text recognition failed: ${coerceError(err).message}`,
      );
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!discarded) this.release(pw);
    }
  }

  /** Stops all workers; pending requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0))
      w.reject(new SecretaryError('CANCELLED', 'OCR pool closed'));
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((pw) => this.stop(pw)));
  }

  private async acquire(signal: AbortSignal | undefined): Promise<PoolWorker> {
    if (this.closed) throw new SecretaryError('OCR_FAILED', 'OCR pool is closed');
    const ready = this.idle.pop();
    if (ready) {
      if (ready.idleTimer) clearTimeout(ready.idleTimer);
      ready.idleTimer = null;
      thread(ready.worker)?.ref();
      return ready;
    }
    if (this.live < this.size) {
      this.live++;
      try {
        return await raceAbort(this.spawn(), signal);
      } catch (err) {
        this.live--;
        throw err;
      }
    }
    return new Promise<PoolWorker>((resolve, reject) => {
      const waiter = {
        resolve: (w: PoolWorker) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(w);
        },
        reject,
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(pw: PoolWorker): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(pw);
      return;
    }
    if (this.closed) {
      void this.stop(pw);
      return;
    }
    pw.idleTimer = setTimeout(() => {
      const i = this.idle.indexOf(pw);
      if (i >= 0) this.idle.splice(i, 1);
      void this.stop(pw);
    }, this.idleTimeoutMs);
    pw.idleTimer.unref();
    thread(pw.worker)?.unref();
    this.idle.push(pw);
  }

  private discard(pw: PoolWorker): void {
    void this.stop(pw);
    // A waiter takes the freed slot with a fresh worker.
    const waiter = this.waiters.shift();
    if (waiter) {
      this.live++;
      this.spawn().then(waiter.resolve, (err: unknown) => {
        this.live--;
        waiter.reject(coerceError(err));
      });
    }
  }

  private async stop(pw: PoolWorker): Promise<void> {
    if (pw.idleTimer) clearTimeout(pw.idleTimer);
    this.live--;
    try {
      await pw.worker.terminate();
    } catch {
      // already gone
    }
  }

  /** Starts a worker with all installed languages of `langs`, falling back to English only. */
  private async spawn(): Promise<PoolWorker> {
    const installed = installedLanguages(this.langs);
    const attempts = [installed, installedLanguages(['eng'])].filter((l) => l.length > 0);
    let lastError: Error = new Error(
      `no Tesseract language data installed for ${this.langs.join('+')}`,
    );
    for (const langs of attempts) {
      try {
        const worker = await createWorker(langs.join('+'), 1, {
          langPath: prepareLangPath(langs),
          cacheMethod: 'none',
          gzip: true,
          logger: () => undefined,
          errorHandler: () => undefined,
        });
        await worker.setParameters({ debug_file: '/dev/null' });
        return { worker, langs: langs.join('+'), idleTimer: null };
      } catch (err) {
        lastError = coerceError(err);
      }
    }
    throw new SecretaryError('OCR_FAILED', `cannot start Tesseract: ${lastError.message}`);
  }
}

let shared: TesseractPool | null = null;
let sharedOptions: OcrPoolOptions = {};

/** Sets the options of the shared pool; call before its first use. */
export const configureOcrPool = (options: OcrPoolOptions): void => {
  sharedOptions = { ...options };
};

/** The process-wide Tesseract pool, created on first use. */
export const getOcrPool = (): TesseractPool => {
  shared ??= new TesseractPool(sharedOptions);
  return shared;
};

/** Stops the shared pool (shutdown, tests). */
export const closeOcrPool = async (): Promise<void> => {
  const pool = shared;
  shared = null;
  if (pool) await pool.close();
};
