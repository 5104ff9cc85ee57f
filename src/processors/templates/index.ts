/** The template engine (original §6): parse, prompt, repair the reply, fill. Pure; no jobs, no store. */
export {
  JSON_FRONTMATTER_KEYS,
  type FrontmatterEntry,
  type FrontmatterKind,
  type ParsedTemplate,
  type TemplateField,
} from './template-types.js';
export { descriptionExpectsArray, parseTemplate } from './template-parser.js';
export { bodyValue, fillTemplate, frontmatterValue, type FillInput } from './template-fill.js';
export {
  DEFAULT_SYSTEM_PROMPT,
  REQUIRED_FIELDS_MARKER,
  arrayFields,
  buildSystemPrompt,
  buildUserPrompt,
  fieldsResponseFormat,
  requiredFields,
} from './template-prompt.js';
export { JsonReplyError, parseJsonReply, type ParsedReply } from './json-repair.js';
export {
  checkFields,
  describeProblems,
  withMissingAsNull,
  type FieldProblem,
} from './field-check.js';
export {
  TemplateLibrary,
  bundledTemplatesDir,
  checkTemplateName,
  closeNames,
  inlineTemplate,
  resolveTemplatesDir,
  type LoadedTemplate,
} from './template-library.js';
