/** The transformer: templates (text or web page), selector extraction, text and chat modes. */
export {
  TransformerProcessor,
  autoContainerSelector,
  type TemplateRequest,
  type TemplateResponse,
  type TransformerOptions,
} from './transformer-processor.js';
export {
  transformWithTemplate,
  type ModelCall,
  type TemplateTransformInput,
  type TemplateTransformResult,
} from './template-transform.js';
export {
  TARGET_FORMATS,
  languageName,
  type TargetFormat,
  type TextTransformResult,
} from './text-transform.js';
export {
  schemaErrors,
  schemaProblems,
  type ChatTransformInput,
  type ChatTransformResult,
} from './chat-transform.js';
export {
  containerSnippets,
  scrapeContainers,
  splitSelector,
  type SelectorExtraction,
} from './selector-extraction.js';
export { callForJson, retryTemperature, type CallRecord } from './json-call.js';
