export { cutSegment, normalizeAudio, SAMPLE_RATE } from './audio-extract.js';
export { ensureTool, runTool, type MediaTool, type RunToolOptions, type ToolRun } from './media-tools.js';
export { parseProbe, probeMedia, type MediaInfo, type MediaStreamInfo } from './probe.js';
export { parseSilences, planSegments, type PlannedSegment, type SegmentPlanOptions, type Silence } from './segment-plan.js';
export {
  removeStaleWorkDirs,
  transcribeMedia,
  type MediaTranscript,
  type SegmentationOptions,
  type SegmentJob,
  type SegmentResult,
  type TranscribeMediaOptions,
  type Transcriber,
} from './transcribe-media.js';
export { assertUsableTranscript, joinTranscripts, repeatedWords, type JoinedTranscript, type SegmentTranscript } from './transcript-join.js';
export { downloadYoutubeAudio, parseYoutubeUrl, type YoutubeDownload, type YoutubeRef } from './youtube.js';
