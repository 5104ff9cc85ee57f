/**
 * The model provider layer's public types: chat (text and vision), audio transcription and
 * document OCR, behind one gateway (`ModelGateway`) that resolves a use case to a provider and
 * model, limits concurrency per provider, retries, caches and records usage and cost.
 *
 * Processors and handlers call the gateway; they never talk to an SDK themselves. Nothing here
 * knows about jobs or stores: usage goes to a `UsageSink` (the handler passes `ctx.usage`).
 */
import type { LlmUseCase, SecretaryConfig } from '../../config/defaults.js';
import type { LlmRequest } from '../../core/job.js';

export type { LlmUseCase };

/** One part of a multimodal message. Images go as bytes or base64; the provider encodes them. */
export type ChatContentPart =
  | { type: 'text'; text: string }
  | {
      type: 'image';
      data: Uint8Array | string;
      mimeType: string;
      detail?: 'low' | 'high' | 'auto';
    };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatContentPart[];
}

/** JSON mode: `json_object`, or a JSON schema the reply must follow (`strict` where supported). */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean };

/** Receives one record per provider call (a handler passes `ctx.usage`). */
export interface UsageSink {
  record(req: Omit<LlmRequest, 'timestamp'> & { timestamp?: string }): void;
}

/** What every call takes besides its payload. */
export interface CallOptions {
  /** Aborts the HTTP request (job cancel, timeout, shutdown). */
  signal?: AbortSignal;
  /** Per-request override of the use case's provider (a name from `llm.providers`). */
  provider?: string | null;
  /** Per-request override of the use case's model. */
  model?: string | null;
  /** Read and write the response cache (only when `llm.cache` is on). Default false. */
  useCache?: boolean;
  /** What the call is for, e.g. `template_transform`, `image2text`, `transcription`, `ocr`. */
  purpose: string;
  /** Who calls, e.g. `TransformerProcessor`, `PDFProcessor` (the original's `processor`). */
  processor: string;
  usage?: UsageSink | null;
}

export interface ChatRequest extends CallOptions {
  messages: ChatMessage[];
  /** Default `llm.temperature`. */
  temperature?: number | null;
  maxTokens?: number | null;
  /** Sent only when the provider has `json_mode`; otherwise the caller parses the text. */
  responseFormat?: ResponseFormat | null;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Common to every result: what was called and what it cost. */
export interface CallInfo {
  provider: string;
  model: string;
  durationMs: number;
  /** USD; null when the model has no price in the table; 0 for a cache hit. */
  cost: number | null;
  fromCache: boolean;
}

export interface ChatResult extends CallInfo {
  text: string;
  usage: TokenUsage;
  finishReason: string | null;
  /** Whether `responseFormat` was actually sent to the provider. */
  jsonMode: boolean;
}

export interface TranscribeRequest extends CallOptions {
  /** An audio file on disk (mp3, wav, m4a, ogg, webm, flac). */
  filePath: string;
  /** ISO 639-1, or null/`auto` to let the model detect it. */
  language?: string | null;
  /** Context for the model (names, previous segment's text). */
  prompt?: string | null;
  /** Audio length in seconds, for per-minute prices (probed by the caller). */
  durationSec?: number | null;
}

export interface TranscriptSegment {
  /** Seconds from the start of this file. */
  start: number;
  end: number;
  text: string;
}

export interface TranscribeResult extends CallInfo {
  text: string;
  language: string | null;
  segments: TranscriptSegment[];
}

/** One page of a Mistral OCR answer (the API's own field names). */
export interface OcrPage {
  index: number;
  markdown: string;
  images: Array<{
    id: string;
    top_left_x?: number | null;
    top_left_y?: number | null;
    bottom_right_x?: number | null;
    bottom_right_y?: number | null;
    image_base64?: string | null;
  }>;
  dimensions?: { dpi?: number; height?: number; width?: number } | null;
}

export interface OcrRequest extends CallOptions {
  /** The document (PDF or image) on disk. */
  filePath: string;
  /** 0-based page indexes (the API's `pages`); absent: all pages. */
  pages?: number[] | null;
  includeImageBase64: boolean;
}

export interface OcrResult extends CallInfo {
  pages: OcrPage[];
  /** The provider's whole answer, as received. */
  raw: Record<string, unknown>;
  pagesProcessed: number;
}

/** One provider call as metrics see it (the gateway's `onCall`). */
export interface ModelCallEvent {
  useCase: LlmUseCase;
  provider: string;
  model: string;
  purpose: string;
  outcome: 'ok' | 'cache_hit' | 'error';
  durationMs: number;
  promptTokens: number;
  completionTokens: number;
  cost: number | null;
  /** HTTP attempts (retries + 1); 0 for a cache hit. */
  attempts: number;
  errorCode?: string;
}

export interface ModelGatewayOptions {
  llm: SecretaryConfig['llm'];
  /** Cache root; answers go under `<cacheDir>/llm/`. */
  cacheDir: string;
  onCall?: (e: ModelCallEvent) => void;
  /** First retry backoff in ms. Default 500 (tests use less). */
  backoffBaseMs?: number;
}
