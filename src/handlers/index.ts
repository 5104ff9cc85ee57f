/** Registers the built-in job types. */
import type { SecretaryConfig } from '../config/defaults.js';
import { UnrecoverableError } from '../core/errors.js';
import type { ModelGateway } from '../processors/llm/index.js';
import type { HandlerRegistry } from '../worker/registry.js';
import { echoJobType } from './echo/echo-handler.js';
import { imageOcrJobType } from './imageocr/imageocr-handler.js';
import { audioJobType, videoJobType, youtubeJobType } from './media/media-handler.js';
import { officeJobType } from './office/office-handler.js';
import { officeViaPdfJobType } from './office/office-via-pdf-handler.js';
import { pdfJobType } from './pdf/pdf-handler.js';
import { eventSummaryJobType } from './session/event-summary-handler.js';
import { sessionJobType } from './session/session-handler.js';
import { transformerJobTypes } from './transformer/transformer-handler.js';

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
  registry.register(pdfJobType(deps.config, deps.models));
  registry.register(imageOcrJobType(deps.config, deps.models));
  registry.register(audioJobType(deps));
  registry.register(videoJobType(deps));
  registry.register(youtubeJobType(deps));
  registry.register(officeJobType(deps.config));
  // office_via_pdf runs the registered pdf handler, so it shares the pdf type's deps and code path
  registry.register(
    officeViaPdfJobType({
      ...deps,
      runPdf: (job, ctx) => {
        const pdf = registry.get('pdf');
        if (!pdf)
          throw new UnrecoverableError(
            'office_via_pdf needs the pdf job type, which is not registered',
            'UNKNOWN_JOB_TYPE',
          );
        return pdf.handler(job, ctx);
      },
    }),
  );
  for (const def of transformerJobTypes(deps)) registry.register(def);
  // sessions run the registered pdf (attachments) and video (transcript) types inside their job
  const sessionDeps = {
    ...deps,
    runJobType: (type: string) => {
      const def = registry.get(type);
      return def ? def.handler : null;
    },
  };
  registry.register(sessionJobType(sessionDeps));
  registry.register(eventSummaryJobType(sessionDeps));
  return registry;
};
