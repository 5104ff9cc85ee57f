export { ModelGateway, type ResolvedModel } from './model-gateway.js';
export { normaliseLanguage } from './languages.js';
export type * from './types.js';
