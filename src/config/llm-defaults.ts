/**
 * Model providers' part of the configuration: use cases, provider entries and their defaults,
 * and the list prices the price table starts from (`config/config.yaml` overrides them).
 */

export const LLM_USE_CASES = ['chat', 'vision', 'transcription', 'ocr'] as const;
export type LlmUseCase = (typeof LLM_USE_CASES)[number];

/** Prices of one model in USD; a missing price makes the request's cost `null`, never 0. */
export interface LlmModelPrice {
  /** Per 1M prompt tokens. */
  input?: number | null;
  /** Per 1M completion tokens. */
  output?: number | null;
  /** Per 1,000 pages (OCR). */
  per_1k_pages?: number | null;
  /** Per minute of audio (transcription). */
  per_minute?: number | null;
}

export interface LlmProviderConfig {
  /** `openai`: any OpenAI-compatible API; `mistral`: Mistral's API. */
  kind: 'openai' | 'mistral';
  /** API base URL, e.g. `https://api.openai.com/v1`; env `OPENAI_BASE_URL`, `OPENROUTER_BASE_URL`, `MISTRAL_BASE_URL`. */
  base_url: string | null;
  /** Environment variable holding the key; null or "" for keyless servers (Ollama, vLLM, local fakes). */
  api_key_env: string | null;
  /** Requests in flight at once to this provider, shared by all jobs of a process. Default 4. */
  max_concurrent: number;
  /** Per-request timeout in seconds. Default 120. */
  timeout_sec: number;
  /** Retries on 429, 5xx and network errors, with backoff and `Retry-After`. Default 3. */
  max_retries: number;
  /** Send `response_format` (JSON object or JSON schema) when a caller wants JSON. Default true. */
  json_mode: boolean;
  /** Price table per model (see `LlmModelPrice`); unknown models cost `null`. */
  models: Record<string, LlmModelPrice>;
  /** Resolved from `api_key_env` when the config is loaded; not settable in the file. */
  readonly api_key?: string | null;
}

/** Fields a provider entry gets when the file leaves them out. */
export const PROVIDER_DEFAULTS = {
  kind: 'openai',
  base_url: null,
  api_key_env: null,
  max_concurrent: 4,
  timeout_sec: 120,
  max_retries: 3,
  json_mode: true,
  models: {},
} as const satisfies LlmProviderConfig;

/** USD per 1M tokens (list prices, late 2026; override in config/config.yaml). */
export const OPENAI_PRICES: Record<string, LlmModelPrice> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'whisper-1': { per_minute: 0.006 },
  'gpt-4o-mini-transcribe': { per_minute: 0.003 },
};

export const MISTRAL_PRICES: Record<string, LlmModelPrice> = {
  'mistral-ocr-latest': { per_1k_pages: 1 },
  'mistral-small-latest': { input: 0.1, output: 0.3 },
  'mistral-large-latest': { input: 2, output: 6 },
  'pixtral-large-latest': { input: 2, output: 6 },
};
