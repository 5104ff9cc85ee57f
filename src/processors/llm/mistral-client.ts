/**
 * Mistral's REST API with plain `fetch`: chat completions, the files API (upload with
 * `purpose=ocr`, delete) and `/ocr`. Errors become provider errors; each method is one HTTP
 * request, so the call policy can retry and limit each of them.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import type { LlmProviderConfig } from '../../config/defaults.js';
import type { ProviderChat, ProviderChatAnswer } from './openai-client.js';
import {
  ProviderBadResponseError,
  ProviderHttpError,
  ProviderNetworkError,
  errorBodyMessage,
  parseRetryAfter,
} from './provider-errors.js';
import type { ChatMessage, OcrPage, ResponseFormat } from './types.js';

const b64 = (data: Uint8Array | string): string =>
  typeof data === 'string' ? data : Buffer.from(data).toString('base64');

/** Mistral takes `image_url` as a plain (data) URL string. */
const toMistralMessages = (messages: ChatMessage[]): unknown[] =>
  messages.map((m) =>
    typeof m.content === 'string'
      ? { role: m.role, content: m.content }
      : {
          role: m.role,
          content: m.content.map((p) =>
            p.type === 'text'
              ? { type: 'text', text: p.text }
              : { type: 'image_url', image_url: `data:${p.mimeType};base64,${b64(p.data)}` },
          ),
        },
  );

const toMistralFormat = (f: ResponseFormat | null): unknown => {
  if (!f || f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    json_schema: { name: f.name, schema: f.schema, strict: f.strict ?? false },
  };
};

export interface MistralOcrCall {
  model: string;
  fileId: string;
  pages: number[] | null;
  includeImageBase64: boolean;
}

export class MistralClient {
  private readonly base: string;
  private readonly key: string | null;

  constructor(cfg: LlmProviderConfig) {
    this.base = (cfg.base_url ?? 'https://api.mistral.ai/v1').replace(/\/+$/, '');
    this.key = cfg.api_key ?? null;
  }

  private async request(
    method: string,
    path: string,
    signal: AbortSignal,
    body?: unknown,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body: payload, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ProviderNetworkError(cause?.code ?? cause?.message ?? (err as Error).message);
    }
    const text = await res.text().catch((err: unknown) => {
      if (signal.aborted) throw err;
      throw new ProviderNetworkError(`the answer broke off: ${(err as Error).message}`);
    });
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      if (res.ok) throw new ProviderBadResponseError(`the body is not JSON (${text.slice(0, 80)})`);
    }
    if (!res.ok) {
      throw new ProviderHttpError(
        res.status,
        errorBodyMessage(parsed) ?? res.statusText,
        parseRetryAfter((n) => res.headers.get(n)),
      );
    }
    return parsed;
  }

  async chat(req: ProviderChat, signal: AbortSignal): Promise<ProviderChatAnswer> {
    const res = (await this.request('POST', '/chat/completions', signal, {
      model: req.model,
      messages: toMistralMessages(req.messages),
      ...(req.temperature !== null ? { temperature: req.temperature } : {}),
      ...(req.maxTokens !== null ? { max_tokens: req.maxTokens } : {}),
      ...(req.responseFormat && req.responseFormat.type !== 'text'
        ? { response_format: toMistralFormat(req.responseFormat) }
        : {}),
    })) as {
      model?: string;
      choices?: Array<{ message?: { content?: unknown }; finish_reason?: string }>;
      usage?: Record<string, number>;
    } | null;
    const choice = res?.choices?.[0];
    if (!choice) throw new ProviderBadResponseError('no choices in the answer');
    const content = choice.message?.content;
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? content.map((c) => (c as { text?: string }).text ?? '').join('')
          : '';
    const prompt = Number(res?.usage?.prompt_tokens) || 0;
    const completion = Number(res?.usage?.completion_tokens) || 0;
    return {
      text,
      model: res?.model || req.model,
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: Number(res?.usage?.total_tokens) || prompt + completion,
      },
      finishReason: choice.finish_reason ?? null,
    };
  }

  /** Uploads a document for OCR; answers the file id. */
  async uploadFile(
    filePath: string,
    fileName: string | null,
    signal: AbortSignal,
  ): Promise<string> {
    const form = new FormData();
    form.append('purpose', 'ocr');
    form.append('file', await openAsBlob(filePath), fileName ?? basename(filePath));
    const res = (await this.request('POST', '/files', signal, form)) as { id?: unknown } | null;
    if (!res || typeof res.id !== 'string')
      throw new ProviderBadResponseError('the upload answer has no file id');
    return res.id;
  }

  async deleteFile(fileId: string, signal: AbortSignal): Promise<void> {
    await this.request('DELETE', `/files/${encodeURIComponent(fileId)}`, signal);
  }

  async ocr(
    req: MistralOcrCall,
    signal: AbortSignal,
  ): Promise<{
    raw: Record<string, unknown>;
    pages: OcrPage[];
    pagesProcessed: number;
    model: string;
  }> {
    const raw = (await this.request('POST', '/ocr', signal, {
      model: req.model,
      document: { type: 'file', file_id: req.fileId },
      include_image_base64: req.includeImageBase64,
      ...(req.pages ? { pages: req.pages } : {}),
    })) as Record<string, unknown> | null;
    if (!raw || !Array.isArray(raw.pages))
      throw new ProviderBadResponseError('the OCR answer has no pages');
    const pages = (raw.pages as Array<Record<string, unknown>>).map((p, i) => ({
      ...(p as object),
      index: Number.isInteger(p.index) ? (p.index as number) : i,
      markdown: typeof p.markdown === 'string' ? p.markdown : '',
      images: Array.isArray(p.images) ? (p.images as OcrPage['images']) : [],
    })) as OcrPage[];
    const usage = (raw.usage_info ?? {}) as { pages_processed?: number };
    return {
      raw,
      pages,
      pagesProcessed: Number(usage.pages_processed) || pages.length,
      model: typeof raw.model === 'string' ? raw.model : req.model,
    };
  }
}
