/**
 * Public types of the local fake model providers: a loopback HTTP server that speaks the
 * OpenAI chat-completions and audio-transcriptions APIs and Mistral's chat, files and OCR APIs,
 * so every job type can be tried — and tested — with the real SDK clients and no keys.
 */

/** The routes the fake answers (used by fault scripts and the request log). */
export const FAKE_ROUTES = [
  'openai.chat',
  'openai.transcriptions',
  'openai.models',
  'mistral.chat',
  'mistral.files.upload',
  'mistral.files.delete',
  'mistral.ocr',
] as const;
export type FakeRoute = (typeof FAKE_ROUTES)[number];

/**
 * One scripted misbehaviour, consumed by the next request of its route:
 * - `status`: answer this HTTP status (with `retryAfter` seconds / `retryAfterMs` headers);
 * - `delayMs`: answer normally, but this late;
 * - `malformed`: a 200 whose body is not valid JSON;
 * - `hang`: never answer (until the client gives up and closes the connection);
 * - `reset`: destroy the connection without an answer.
 */
export type Fault =
  | { status: number; message?: string; retryAfter?: number; retryAfterMs?: number }
  | { delayMs: number }
  | { malformed: true }
  | { hang: true }
  | { reset: true };

/** Latency of model calls (chat, transcription, OCR): fixed ms or a [min, max] range. */
export type Latency = number | readonly [number, number];

export interface FakeProvidersOptions {
  /** Default 0: a free port. */
  port?: number;
  host?: string;
  /** Added to every chat, transcription and OCR answer. Default 0. */
  latencyMs?: Latency;
  /** Seed of the latency range's PRNG, so runs are repeatable. Default 1. */
  seed?: number;
  /** When set, requests without `Authorization: Bearer <key>` get 401. Default: any key or none. */
  requireKey?: string | null;
  /** Mistral OCR limits: larger documents get the API's 400 answer. Defaults 50 MB and 1,000 pages. */
  ocrMaxBytes?: number;
  ocrMaxPages?: number;
  /** Request log entries kept. Default 10,000. */
  maxLogEntries?: number;
}

export interface RequestLogEntry {
  seq: number;
  route: FakeRoute | 'unknown';
  method: string;
  path: string;
  status: number | null;
  /** The client closed the connection before the answer was sent (cancel, timeout). */
  aborted: boolean;
  authorized: boolean;
  startedAt: string;
  durationMs: number | null;
  /** What the request asked for (model, response_format, pages, file size, …). */
  summary: Record<string, unknown>;
  /** The fault that answered it, if one did. */
  fault: Fault | null;
}

export interface FakeProviders {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Base URL for OpenAI-compatible clients: `<url>/openai/v1`. */
  openaiBaseUrl: string;
  /** Base URL for Mistral clients: `<url>/mistral/v1`. */
  mistralBaseUrl: string;
  /** Environment that points Secretary at this fake. */
  env: Record<string, string>;
  /** Requests so far, oldest first. */
  readonly requests: readonly RequestLogEntry[];
  /** Requests of one route. */
  requestsOf(route: FakeRoute): RequestLogEntry[];
  /** Queues faults for the next requests of `route` (`*`: any model route). */
  fail(route: FakeRoute | '*', ...faults: Fault[]): void;
  /** Files uploaded to the Mistral files API and not deleted yet. */
  readonly storedFiles: number;
  setLatency(latency: Latency): void;
  /** Clears the request log, faults and stored files. */
  reset(): void;
  close(): Promise<void>;
}
