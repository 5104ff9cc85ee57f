/**
 * Which provider and model a call goes to: the use case's target from `llm.use_cases`, the
 * request's `provider`/`model` overrides, the kind a use case needs (transcription speaks
 * OpenAI's audio API, OCR Mistral's), and whether the provider is usable (a base URL and a key,
 * or a keyless/loopback server). Unusable → `LLM_NOT_CONFIGURED` naming what to set.
 */
import type { LlmProviderConfig, LlmUseCase, SecretaryConfig } from '../../config/defaults.js';
import { UnrecoverableError } from '../../core/errors.js';

export interface ResolvedModel {
  provider: string;
  kind: LlmProviderConfig['kind'];
  model: string;
  jsonMode: boolean;
}

/** Where each use case must go: transcription speaks OpenAI's audio API, OCR Mistral's. */
const REQUIRED_KIND: Partial<Record<LlmUseCase, LlmProviderConfig['kind']>> = {
  transcription: 'openai',
  ocr: 'mistral',
};

const BASE_URL_ENV: Record<string, string> = {
  openai: 'OPENAI_BASE_URL',
  openrouter: 'OPENROUTER_BASE_URL',
  mistral: 'MISTRAL_BASE_URL',
};

const isLoopback = (url: string | null): boolean => {
  if (!url) return false;
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
};

/** Usable: a base URL, and a key unless the provider is keyless or on this machine. */
const usable = (cfg: LlmProviderConfig): boolean =>
  Boolean(cfg.base_url) && (Boolean(cfg.api_key) || !cfg.api_key_env || isLoopback(cfg.base_url));

/** Provider and model of a use case with the request's overrides, or `LLM_NOT_CONFIGURED`. */
export const resolveModel = (
  llm: SecretaryConfig['llm'],
  useCase: LlmUseCase,
  override: { provider?: string | null; model?: string | null } = {},
): ResolvedModel => {
  const { providers, use_cases } = llm;
  const target = use_cases[useCase];
  const name = override.provider || target.provider;
  const cfg = providers[name];
  if (!cfg) {
    throw new UnrecoverableError(
      `unknown provider ${JSON.stringify(name)}; configured: ${Object.keys(providers).join(', ')}`,
      'INVALID_PARAMETERS',
      {
        details: [
          {
            path: '/provider',
            problem: `not in llm.providers (${Object.keys(providers).join(', ')})`,
          },
        ],
      },
    );
  }
  const kind = REQUIRED_KIND[useCase];
  if (kind && cfg.kind !== kind) {
    throw new UnrecoverableError(
      `the ${useCase} use case needs a provider of kind ${kind}; ${name} is ${cfg.kind}`,
      'INVALID_PARAMETERS',
      {
        details: [{ path: '/provider', problem: `must be a ${kind} provider for ${useCase}` }],
      },
    );
  }
  if (!usable(cfg)) {
    const baseEnv =
      BASE_URL_ENV[name] ?? `SECRETARY__LLM__PROVIDERS__${name.toUpperCase()}__BASE_URL`;
    const how = cfg.base_url
      ? `set ${cfg.api_key_env} (its key), or point ${baseEnv} at a local OpenAI-compatible server such as \`npm run fake-providers\``
      : `set ${baseEnv}`;
    throw new UnrecoverableError(
      `${useCase} needs provider ${name}${cfg.base_url ? ` (${cfg.base_url})` : ''}, which is not configured: ${how}, or route llm.use_cases.${useCase} to another provider`,
      'LLM_NOT_CONFIGURED',
      {
        use_case: useCase,
        provider: name,
        ...(cfg.api_key_env ? { api_key_env: cfg.api_key_env } : {}),
      },
    );
  }
  return {
    provider: name,
    kind: cfg.kind,
    model: override.model || target.model,
    jsonMode: cfg.json_mode,
  };
};
