/**
 * Chat (text and vision) and audio transcription against any OpenAI-compatible API (OpenAI,
 * OpenRouter, Ollama, vLLM, LocalAI) with the official `openai` SDK. The SDK's own retries are
 * off: the call policy retries, so every provider behaves the same. SDK errors become
 * provider errors here.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { LlmProviderConfig } from '../../config/defaults.js';
import {
  ProviderBadResponseError,
  ProviderHttpError,
  ProviderNetworkError,
  errorBodyMessage,
  parseRetryAfter,
} from './provider-errors.js';
import type { ChatMessage, ResponseFormat, TokenUsage, TranscriptSegment } from './types.js';

export interface ProviderChat {
  model: string;
  messages: ChatMessage[];
  temperature: number | null;
  maxTokens: number | null;
  responseFormat: ResponseFormat | null;
}

export interface ProviderChatAnswer {
  text: string;
  model: string;
  usage: TokenUsage;
  finishReason: string | null;
}

export interface ProviderTranscription {
  model: string;
  filePath: string;
  language: string | null;
  prompt: string | null;
}

export interface ProviderTranscript {
  text: string;
  language: string | null;
  segments: TranscriptSegment[];
  durationSec: number | null;
  usage: TokenUsage | null;
}

const b64 = (data: Uint8Array | string): string =>
  typeof data === 'string' ? data : Buffer.from(data).toString('base64');

/** Our messages in the OpenAI wire format (images as data URLs). */
export const toOpenAiMessages = (
  messages: ChatMessage[],
): OpenAI.Chat.Completions.ChatCompletionMessageParam[] =>
  messages.map((m) => {
    if (typeof m.content === 'string' || m.role !== 'user') {
      const text =
        typeof m.content === 'string'
          ? m.content
          : m.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
      return { role: m.role, content: text } as OpenAI.Chat.Completions.ChatCompletionMessageParam;
    }
    return {
      role: 'user',
      content: m.content.map((p) =>
        p.type === 'text'
          ? { type: 'text' as const, text: p.text }
          : {
              type: 'image_url' as const,
              image_url: {
                url: `data:${p.mimeType};base64,${b64(p.data)}`,
                detail: p.detail ?? 'auto',
              },
            },
      ),
    };
  });

export const toOpenAiResponseFormat = (
  f: ResponseFormat | null,
): OpenAI.Chat.Completions.ChatCompletionCreateParams['response_format'] => {
  if (!f || f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    json_schema: { name: f.name, schema: f.schema, strict: f.strict ?? false },
  };
};

/** SDK errors → provider errors (the caller's own abort is recognised by the call policy). */
const translate = (err: unknown): Error => {
  if (err instanceof APIUserAbortError) return err;
  if (err instanceof APIConnectionError) return new ProviderNetworkError(err.message);
  if (err instanceof APIError && typeof err.status === 'number') {
    const headers = err.headers;
    return new ProviderHttpError(
      err.status,
      errorBodyMessage(err.error) ?? err.message,
      headers ? parseRetryAfter((n) => headers.get(n)) : null,
    );
  }
  if (err instanceof SyntaxError)
    return new ProviderBadResponseError(`the body is not JSON (${err.message})`);
  return err instanceof Error ? err : new Error(String(err));
};

const usageOf = (
  u:
    | { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number }
    | null
    | undefined,
): TokenUsage => {
  const prompt = Number(u?.prompt_tokens) || 0;
  const completion = Number(u?.completion_tokens) || 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: Number(u?.total_tokens) || prompt + completion,
  };
};

export class OpenAiCompatibleClient {
  private readonly sdk: OpenAI;
  /** Models that answered 400 to `verbose_json`; they get plain `json`. */
  private readonly noVerbose = new Set<string>();

  constructor(cfg: LlmProviderConfig) {
    this.sdk = new OpenAI({
      // keyless servers (Ollama, vLLM, the local fake) ignore it; the SDK insists on a value
      apiKey: cfg.api_key || 'no-key',
      baseURL: cfg.base_url ?? undefined,
      maxRetries: 0,
      // the call policy enforces timeout_sec through the signal; this is only a backstop
      timeout: (cfg.timeout_sec + 30) * 1000,
    });
  }

  async chat(req: ProviderChat, signal: AbortSignal): Promise<ProviderChatAnswer> {
    let res: OpenAI.Chat.Completions.ChatCompletion;
    try {
      res = await this.sdk.chat.completions.create(
        {
          model: req.model,
          messages: toOpenAiMessages(req.messages),
          ...(req.temperature !== null ? { temperature: req.temperature } : {}),
          ...(req.maxTokens !== null ? { max_tokens: req.maxTokens } : {}),
          ...(req.responseFormat && req.responseFormat.type !== 'text'
            ? { response_format: toOpenAiResponseFormat(req.responseFormat) }
            : {}),
        },
        { signal },
      );
    } catch (err) {
      throw translate(err);
    }
    const choice = (res as Partial<typeof res> | null)?.choices?.[0];
    if (!choice || typeof choice !== 'object')
      throw new ProviderBadResponseError('no choices in the answer');
    const content = choice.message?.content;
    if (content !== null && content !== undefined && typeof content !== 'string')
      throw new ProviderBadResponseError('message.content is not text');
    return {
      text: content ?? '',
      model: res.model || req.model,
      usage: usageOf(res.usage),
      finishReason: choice.finish_reason ?? null,
    };
  }

  async transcribe(req: ProviderTranscription, signal: AbortSignal): Promise<ProviderTranscript> {
    const verbose = !this.noVerbose.has(req.model);
    let res: Record<string, unknown>;
    try {
      res = (await this.sdk.audio.transcriptions.create(
        {
          file: createReadStream(req.filePath),
          model: req.model,
          ...(req.language ? { language: req.language } : {}),
          ...(req.prompt ? { prompt: req.prompt } : {}),
          ...(verbose
            ? {
                response_format: 'verbose_json' as const,
                timestamp_granularities: ['segment' as const],
              }
            : { response_format: 'json' as const }),
        },
        { signal },
      )) as unknown as Record<string, unknown>;
    } catch (err) {
      const e = translate(err);
      if (
        verbose &&
        e instanceof ProviderHttpError &&
        e.status === 400 &&
        /response_format|verbose_json|timestamp/i.test(e.message)
      ) {
        this.noVerbose.add(req.model);
        return this.transcribe(req, signal);
      }
      throw e;
    }
    if (!res || typeof res !== 'object' || typeof res.text !== 'string') {
      throw new ProviderBadResponseError(
        `no text in the transcription of ${basename(req.filePath)}`,
      );
    }
    const segments = Array.isArray(res.segments)
      ? (res.segments as Array<Record<string, unknown>>).map((s) => ({
          start: Number(s.start) || 0,
          end: Number(s.end) || 0,
          text: String(s.text ?? '').trim(),
        }))
      : [];
    return {
      text: res.text,
      language: typeof res.language === 'string' ? res.language : null,
      segments,
      durationSec:
        Number.isFinite(Number(res.duration)) && res.duration !== undefined
          ? Number(res.duration)
          : null,
      usage:
        res.usage && typeof res.usage === 'object'
          ? usageOf(res.usage as Record<string, number>)
          : null,
    };
  }
}
