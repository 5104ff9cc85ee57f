/**
 * What handlers share to run transformations: one `TransformerProcessor` per model gateway
 * (one template cache per process), and a usage sink that records into the job's `llm_info`
 * and keeps its own sum for the result envelope.
 */
import type { SecretaryConfig } from '../../config/defaults.js';
import { addLlmRequest, type LlmInfo } from '../../core/job.js';
import type { ModelGateway } from '../../processors/llm/index.js';
import { resolveTemplatesDir, TemplateLibrary } from '../../processors/templates/index.js';
import { TransformerProcessor, type ModelCall } from '../../processors/transformer/index.js';
import type { HandlerContext, UsageRecorder } from '../../worker/registry.js';

export interface TransformerDeps {
  config: SecretaryConfig;
  models: ModelGateway;
}

const processors = new WeakMap<ModelGateway, TransformerProcessor>();

/** The process's transformer for this gateway (created on first use). */
export const transformerFor = (deps: TransformerDeps): TransformerProcessor => {
  let p = processors.get(deps.models);
  if (!p) {
    const { config } = deps;
    p = new TransformerProcessor({
      gateway: deps.models,
      templates: new TemplateLibrary(
        resolveTemplatesDir(config.processors.templates.dir, config.paths.home),
      ),
      temperature: config.llm.temperature,
      responseFormat: config.processors.transformer.response_format,
      web: {
        timeoutMs: config.processors.web.timeout_sec * 1000,
        maxBytes: config.processors.web.max_size_mb * 1024 * 1024,
        guard: {
          allowPrivate: config.security.allow_private_urls,
          allowlist: config.security.url_allowlist,
        },
      },
    });
    processors.set(deps.models, p);
  }
  return p;
};

/** Records into the job (`ctx.usage`) and sums locally (`info()`). */
export const teeUsage = (target: UsageRecorder): UsageRecorder & { info(): LlmInfo | null } => {
  let info: LlmInfo | null = null;
  return {
    record(req) {
      target.record(req);
      info = addLlmRequest(info, { ...req, timestamp: req.timestamp ?? new Date().toISOString() });
    },
    info: () => info,
  };
};

/** The `ModelCall` of a job: its signal, usage, log and the request's overrides. */
export const modelCallOf = (
  ctx: HandlerContext,
  usage: UsageRecorder,
  p: { model?: unknown; provider?: unknown; use_cache?: unknown; temperature?: unknown },
  useCacheDefault: boolean,
): ModelCall => ({
  signal: ctx.signal,
  usage,
  model: typeof p.model === 'string' && p.model ? p.model : null,
  provider: typeof p.provider === 'string' && p.provider ? p.provider : null,
  useCache: typeof p.use_cache === 'boolean' ? p.use_cache : useCacheDefault,
  temperature: typeof p.temperature === 'number' ? p.temperature : null,
  log: (level, message) => ctx.log(level === 'warn' ? 'warning' : level, message),
});
