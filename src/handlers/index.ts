/** Registers the built-in job types. */
import type { SecretaryConfig } from '../config/defaults.js';
import type { HandlerRegistry } from '../worker/registry.js';
import { echoJobType } from './echo/echo-handler.js';

export interface HandlerDeps {
  config: SecretaryConfig;
}

export const registerBuiltinHandlers = (registry: HandlerRegistry, _deps: HandlerDeps): HandlerRegistry => {
  registry.register(echoJobType);
  return registry;
};
