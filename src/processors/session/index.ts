/** The session pipeline: paths, cache key, Markdown post-processing, archive, event summary input. */
export {
  processSession,
  type ExtractedAttachments,
  type FetchedPage,
  type FilledTemplate,
  type SessionInput,
  type SessionOutput,
  type SessionRunOptions,
  type SessionStepFns,
} from './session-pipeline.js';
export {
  PATH_PART_MAX,
  hasDotDotSegment,
  pathProblems,
  sanitizePathPart,
  sessionFileName,
  sessionLayout,
  type SessionLayout,
  type SessionLayoutInput,
} from './session-paths.js';
export {
  pythonJson,
  sessionCacheKey,
  sessionFingerprint,
  type SessionKeyInput,
} from './session-cache-key.js';
export {
  enrichSlides,
  finishSessionMarkdown,
  normaliseSlides,
  slidesTable,
  templateContext,
  templateInputText,
  videoPlayer,
  withFrontmatterSlides,
  type EnrichedSlide,
  type Slide,
} from './session-markdown.js';
export { archiveReadme, writeSessionArchive } from './session-archive.js';
export {
  SESSION_STEPS,
  stepFailure,
  stepWarning,
  type SessionStep,
  type StepRecord,
  type StepWarning,
} from './session-steps.js';
export {
  EVENT_TEXT_MAX,
  EXCERPT_CHARS,
  eventSummaryInput,
  type EventSessionEntry,
  type EventSummaryInput,
} from './event-summary.js';
