/**
 * The one door to model providers. Resolves a use case (`chat`, `vision`, `transcription`,
 * `ocr`) and the request's overrides to a provider and model, sends the call under that
 * provider's call policy (process-wide concurrency limit, timeout, retries, abort), answers
 * from the response cache when asked, prices the call and records it — to the caller's usage
 * sink (the job's `llm_info`) and to `onCall` (metrics).
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { LlmProviderConfig, LlmUseCase, SecretaryConfig } from '../../config/defaults.js';
import { SecretaryError } from '../../core/errors.js';
import { callWithPolicy } from './call-policy.js';
import { MistralClient } from './mistral-client.js';
import {
  OpenAiCompatibleClient,
  type ProviderChat,
  type ProviderChatAnswer,
  type ProviderTranscript,
} from './openai-client.js';
import { audioCost, pageCost, priceOf, tokenCost } from './pricing.js';
import { ProviderLimiter } from './provider-limiter.js';
import { fileSha256, requestHash, ResponseCache } from './response-cache.js';
import { normaliseLanguage } from './languages.js';
import { resolveModel, type ResolvedModel } from './provider-resolution.js';

export type { ResolvedModel };
import type {
  CallOptions,
  ChatRequest,
  ModelCallEvent,
  ModelGatewayOptions,
  ChatResult,
  OcrRequest,
  OcrResult,
  TranscribeRequest,
  TranscribeResult,
} from './types.js';

interface ProviderEntry {
  cfg: LlmProviderConfig;
  limiter: ProviderLimiter;
  openai: OpenAiCompatibleClient | null;
  mistral: MistralClient | null;
}

/** What a cache hit reports: no time, no tokens, no cost, no provider call. */
const CACHE_HIT = {
  durationMs: 0,
  prompt: 0,
  completion: 0,
  cost: 0,
  attempts: 0,
  fromCache: true,
} as const;

/** The call info of a result answered from the cache. */
const HIT_RESULT = { durationMs: 0, cost: 0, fromCache: true } as const;

export class ModelGateway {
  private readonly entries = new Map<string, ProviderEntry>();
  private readonly cache: ResponseCache;

  constructor(private readonly opts: ModelGatewayOptions) {
    this.cache = new ResponseCache(join(opts.cacheDir, 'llm'));
  }

  /** Provider and model of a use case with the request's overrides, or `LLM_NOT_CONFIGURED`. */
  resolve(
    useCase: LlmUseCase,
    override: { provider?: string | null; model?: string | null } = {},
  ): ResolvedModel {
    return resolveModel(this.opts.llm, useCase, override);
  }

  isConfigured(useCase: LlmUseCase, override: { provider?: string | null } = {}): boolean {
    try {
      this.resolve(useCase, override);
      return true;
    } catch {
      return false;
    }
  }

  /** Requests in flight and waiting per provider (metrics, dashboard). */
  load(): Array<{ provider: string; in_flight: number; queued: number }> {
    return [...this.entries].map(([provider, e]) => ({
      provider,
      in_flight: e.limiter.inFlight,
      queued: e.limiter.queued,
    }));
  }

  private entry(name: string): ProviderEntry {
    let e = this.entries.get(name);
    if (!e) {
      const cfg = this.opts.llm.providers[name]!;
      e = {
        cfg,
        limiter: new ProviderLimiter(cfg.max_concurrent),
        openai: cfg.kind === 'openai' ? new OpenAiCompatibleClient(cfg) : null,
        mistral: cfg.kind === 'mistral' ? new MistralClient(cfg) : null,
      };
      this.entries.set(name, e);
    }
    return e;
  }

  private policy(r: ResolvedModel, e: ProviderEntry, req: CallOptions) {
    return {
      limiter: e.limiter,
      maxRetries: e.cfg.max_retries,
      timeoutMs: e.cfg.timeout_sec * 1000,
      backoffBaseMs: this.opts.backoffBaseMs,
      signal: req.signal,
      subject: {
        provider: r.provider,
        model: r.model,
        baseUrl: e.cfg.base_url,
        apiKeyEnv: e.cfg.api_key_env,
      },
    };
  }

  /** Sends `fn` under the policy; reports failures to `onCall` and rethrows them. */
  private async send<T>(
    useCase: LlmUseCase,
    r: ResolvedModel,
    req: CallOptions,
    fn: (e: ProviderEntry, signal: AbortSignal) => Promise<T>,
  ) {
    const e = this.entry(r.provider);
    const started = performance.now();
    try {
      const out = await callWithPolicy(this.policy(r, e, req), (signal) => fn(e, signal));
      return { ...out, e, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      this.opts.onCall?.({
        useCase,
        provider: r.provider,
        model: r.model,
        purpose: req.purpose,
        outcome: 'error',
        durationMs: Math.round(performance.now() - started),
        promptTokens: 0,
        completionTokens: 0,
        cost: null,
        attempts: 0,
        errorCode: err instanceof SecretaryError ? err.code : 'CANCELLED',
      });
      throw err;
    }
  }

  private report(
    useCase: LlmUseCase,
    r: ResolvedModel,
    req: CallOptions,
    rec: {
      durationMs: number;
      prompt: number;
      completion: number;
      cost: number | null;
      attempts: number;
      fromCache: boolean;
      pages?: number;
      audioSeconds?: number | null;
    },
  ): void {
    req.usage?.record({
      model: r.model,
      provider: r.provider,
      purpose: req.purpose,
      processor: req.processor,
      tokens: rec.fromCache ? 0 : rec.prompt + rec.completion,
      prompt_tokens: rec.fromCache ? 0 : rec.prompt,
      completion_tokens: rec.fromCache ? 0 : rec.completion,
      duration: rec.durationMs,
      cost: rec.fromCache ? 0 : rec.cost,
      from_cache: rec.fromCache,
      ...(rec.pages !== undefined ? { pages: rec.pages } : {}),
      ...(rec.audioSeconds !== undefined && rec.audioSeconds !== null
        ? { audio_seconds: rec.audioSeconds }
        : {}),
    });
    this.opts.onCall?.({
      useCase,
      provider: r.provider,
      model: r.model,
      purpose: req.purpose,
      outcome: rec.fromCache ? 'cache_hit' : 'ok',
      durationMs: rec.durationMs,
      promptTokens: rec.fromCache ? 0 : rec.prompt,
      completionTokens: rec.fromCache ? 0 : rec.completion,
      cost: rec.fromCache ? 0 : rec.cost,
      attempts: rec.fromCache ? 0 : rec.attempts,
    });
  }

  /** The cache key when this call may use the cache; `parts` is only built then (file hashes cost a read). */
  private async cacheKey(
    req: CallOptions,
    parts: () => Record<string, unknown> | Promise<Record<string, unknown>>,
  ): Promise<string | null> {
    return req.useCache && this.opts.llm.cache ? requestHash(await parts()) : null;
  }

  async chat(useCase: 'chat' | 'vision', req: ChatRequest): Promise<ChatResult> {
    const r = this.resolve(useCase, req);
    const json = Boolean(r.jsonMode && req.responseFormat && req.responseFormat.type !== 'text');
    const call: ProviderChat = {
      model: r.model,
      messages: req.messages,
      temperature: req.temperature ?? this.opts.llm.temperature,
      maxTokens: req.maxTokens ?? null,
      responseFormat: json ? req.responseFormat! : null,
    };
    const key = await this.cacheKey(req, () => ({ op: 'chat', provider: r.provider, ...call }));
    const hit = key ? await this.cache.get<ProviderChatAnswer>(key) : null;
    if (hit) {
      this.report(useCase, r, req, CACHE_HIT);
      return {
        ...hit,
        provider: r.provider,
        ...HIT_RESULT,
        jsonMode: json,
      };
    }
    const { value, attempts, e, durationMs } = await this.send(useCase, r, req, (en, signal) =>
      (en.openai ?? en.mistral)!.chat(call, signal),
    );
    const cost = tokenCost(
      priceOf(e.cfg.models, r.model),
      value.usage.prompt_tokens,
      value.usage.completion_tokens,
    );
    this.report(useCase, r, req, {
      durationMs,
      prompt: value.usage.prompt_tokens,
      completion: value.usage.completion_tokens,
      cost,
      attempts,
      fromCache: false,
    });
    if (key) await this.cache.set(key, value);
    return { ...value, provider: r.provider, durationMs, cost, fromCache: false, jsonMode: json };
  }

  async transcribe(req: TranscribeRequest): Promise<TranscribeResult> {
    const r = this.resolve('transcription', req);
    const language = req.language && req.language !== 'auto' ? req.language : null;
    const key = await this.cacheKey(req, async () => ({
      op: 'transcribe',
      provider: r.provider,
      model: r.model,
      file: await fileSha256(req.filePath),
      language,
      prompt: req.prompt ?? null,
    }));
    const hit = key ? await this.cache.get<ProviderTranscript>(key) : null;
    const finish = (
      t: ProviderTranscript,
      extra: Omit<TranscribeResult, 'text' | 'language' | 'segments' | 'provider' | 'model'>,
    ): TranscribeResult => ({
      text: t.text,
      language: normaliseLanguage(t.language) ?? language,
      segments: t.segments,
      provider: r.provider,
      model: r.model,
      ...extra,
    });
    if (hit) {
      this.report('transcription', r, req, {
        ...CACHE_HIT,
        audioSeconds: hit.durationSec ?? req.durationSec,
      });
      return finish(hit, HIT_RESULT);
    }
    const { value, attempts, e, durationMs } = await this.send(
      'transcription',
      r,
      req,
      (en, signal) =>
        en.openai!.transcribe(
          { model: r.model, filePath: req.filePath, language, prompt: req.prompt ?? null },
          signal,
        ),
    );
    const seconds = value.durationSec ?? req.durationSec ?? null;
    const prompt = value.usage?.prompt_tokens ?? 0;
    const completion = value.usage?.completion_tokens ?? 0;
    const cost = audioCost(priceOf(e.cfg.models, r.model), seconds, prompt, completion);
    this.report('transcription', r, req, {
      durationMs,
      prompt,
      completion,
      cost,
      attempts,
      fromCache: false,
      audioSeconds: seconds,
    });
    if (key) await this.cache.set(key, value);
    return finish(value, { durationMs, cost, fromCache: false });
  }

  /** OCR of one document: upload (files API), `/ocr`, and the upload deleted again whatever happens. */
  async ocr(req: OcrRequest): Promise<OcrResult> {
    const r = this.resolve('ocr', req);
    const pages = req.pages && req.pages.length ? [...req.pages] : null;
    const key = await this.cacheKey(req, async () => ({
      op: 'ocr',
      provider: r.provider,
      model: r.model,
      file: await fileSha256(req.filePath),
      pages,
      images: req.includeImageBase64,
    }));
    type Answer = {
      raw: Record<string, unknown>;
      pages: OcrResult['pages'];
      pagesProcessed: number;
    };
    const hit = key ? await this.cache.get<Answer>(key) : null;
    if (hit) {
      this.report('ocr', r, req, {
        ...CACHE_HIT,
        pages: hit.pagesProcessed,
      });
      return {
        ...hit,
        provider: r.provider,
        model: r.model,
        ...HIT_RESULT,
      };
    }
    const started = performance.now();
    const upload = await this.send('ocr', r, req, (en, signal) =>
      en.mistral!.uploadFile(req.filePath, null, signal),
    );
    let answer: Awaited<ReturnType<MistralClient['ocr']>>;
    let attempts = upload.attempts;
    try {
      const done = await this.send('ocr', r, req, (en, signal) =>
        en.mistral!.ocr(
          {
            model: r.model,
            fileId: upload.value,
            pages,
            includeImageBase64: req.includeImageBase64,
          },
          signal,
        ),
      );
      answer = done.value;
      attempts += done.attempts;
    } finally {
      // the document must not stay at the provider (the original never deleted it), also after a cancel
      await upload.e
        .mistral!.deleteFile(upload.value, AbortSignal.timeout(15_000))
        .catch(() => undefined);
    }
    const durationMs = Math.round(performance.now() - started);
    const cost = pageCost(priceOf(upload.e.cfg.models, r.model), answer.pagesProcessed);
    this.report('ocr', r, req, {
      durationMs,
      prompt: 0,
      completion: 0,
      cost,
      attempts,
      fromCache: false,
      pages: answer.pagesProcessed,
    });
    const result: Answer = {
      raw: answer.raw,
      pages: answer.pages,
      pagesProcessed: answer.pagesProcessed,
    };
    if (key) await this.cache.set(key, result);
    return { ...result, provider: r.provider, model: r.model, durationMs, cost, fromCache: false };
  }

  /** A gateway for a loaded config (cache under the configured cache root). */
  static fromConfig(config: SecretaryConfig, onCall?: (e: ModelCallEvent) => void): ModelGateway {
    return new ModelGateway({ llm: config.llm, cacheDir: config.paths.cache_dir, onCall });
  }
}
