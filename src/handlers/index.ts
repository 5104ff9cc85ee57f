/** Registers the built-in job types. */
import type { SecretaryConfig } from '../config/defaults.js';
import type { ModelGateway } from '../processors/llm/index.js';
import type { HandlerRegistry } from '../worker/registry.js';
import { echoJobType } from './echo/echo-handler.js';
import { imageOcrJobType } from './imageocr/imageocr-handler.js';
import { audioJobType, videoJobType, youtubeJobType } from './media/media-handler.js';
import { pdfJobType } from './pdf/pdf-handler.js';

export interface HandlerDeps {
  config: SecretaryConfig;
  /** The process's one model gateway (providers, limits, cache, usage). */
  models: ModelGateway;
}

export const registerBuiltinHandlers = (
  registry: HandlerRegistry,
  deps: HandlerDeps,
): HandlerRegistry => {
  registry.register(echoJobType);
  registry.register(pdfJobType(deps.config));
  registry.register(imageOcrJobType(deps.config));
  registry.register(audioJobType(deps));
  registry.register(videoJobType(deps));
  registry.register(youtubeJobType(deps));
  return registry;
};
