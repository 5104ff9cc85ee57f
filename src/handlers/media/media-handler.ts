/**
 * The `audio`, `video` and `youtube` job types: input (upload, allowed local file, guarded URL
 * download, or yt-dlp for YouTube) → content hash → cached transcript, or ffmpeg segmentation
 * and transcription through the model gateway (`transcribeMedia`) → optional template →
 * results. Downloads and temp files are removed whatever happens. A cache hit is a normal job
 * (progress, results, webhooks) with `is_from_cache: true`.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { SecretaryConfig } from '../../config/defaults.js';
import { touchCacheEntry } from '../../files/retention.js';
import { SecretaryError } from '../../core/errors.js';
import type { Job } from '../../core/job.js';
import { hashFile } from '../../files/cache-layout.js';
import { normaliseLanguage, type ModelGateway } from '../../processors/llm/index.js';
import {
  downloadYoutubeAudio,
  ensureTool,
  parseYoutubeUrl,
  removeStaleWorkDirs,
  transcribeMedia,
  type Transcriber,
} from '../../processors/media/index.js';
import type { HandlerContext, JobTypeDefinition } from '../../worker/registry.js';
import { param, resolveInputFile } from '../shared/input-file.js';
import {
  mediaCacheKey,
  mediaCachePath,
  readCachedTranscript,
  writeCachedTranscript,
  type CachedTranscript,
} from './media-cache.js';
import {
  mediaParameters,
  validateMediaParameters,
  VIDEO_EXTENSIONS,
  type MediaKind,
} from './media-parameters.js';
import {
  buildMediaResults,
  MAIN_PROCESSOR,
  mediaCallbackData,
  type MediaSource,
} from './media-results.js';
import { prepareTranscriptTemplate } from './transcript-template.js';

export interface MediaDeps {
  config: SecretaryConfig;
  models: ModelGateway;
}

const MB = 1024 * 1024;
/** Work dirs untouched this long were left by a killed process (a run removes its own). */
const STALE_WORK_DIR_MS = 24 * 3600 * 1000;

/** A client file name fit for results and logs: no path, no control characters, bounded. */
export const cleanFileName = (name: string): string =>
  (name.split(/[\\/]/).pop() ?? '')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim()
    .slice(0, 255) || 'media';

const urlExtension = (url: string | undefined): string => {
  if (!url) return '.bin';
  try {
    const e = extname(new URL(url).pathname).toLowerCase().slice(1);
    return (VIDEO_EXTENSIONS as readonly string[]).includes(e) ? `.${e}` : '.bin';
  } catch {
    return '.bin';
  }
};

interface Input {
  path: string;
  source: MediaSource;
}

const openInput = async (
  kind: MediaKind,
  deps: MediaDeps,
  job: Job,
  ctx: HandlerContext,
  cleanup: string[],
): Promise<Input> => {
  const { config } = deps;
  const m = config.processors.media;
  const p = job.parameters;
  const maxBytes = m.max_file_size_mb * MB;
  const url = param<string>(p, 'url');
  const yt = url && (kind === 'youtube' || kind === 'video') ? parseYoutubeUrl(url) : null;
  if (kind === 'youtube' && !yt) {
    throw new SecretaryError('INVALID_PARAMETERS', 'url is not a YouTube video URL', {
      details: [
        {
          path: '/url',
          problem: 'youtube.com/watch?v=<id>, youtu.be/<id> or youtube.com/shorts/<id>',
        },
      ],
    });
  }
  if (yt) {
    await ensureTool('yt-dlp', m.yt_dlp_path);
    ctx.progress('downloading', 5, 'YouTube-Audio wird geladen');
    const tmpRoot = join(config.paths.cache_dir, 'tmp');
    await mkdir(tmpRoot, { recursive: true });
    const dir = await mkdtemp(join(tmpRoot, 'youtube-'));
    cleanup.push(dir);
    const d = await downloadYoutubeAudio({
      ytDlp: m.yt_dlp_path,
      ref: yt,
      dir,
      maxBytes,
      timeoutMs: m.download_timeout_sec * 1000,
      extraArgs: m.yt_dlp_args,
      signal: ctx.signal,
    });
    ctx.log('info', `yt-dlp: ${yt.videoId} (${d.sizeBytes} bytes)`);
    return {
      path: d.path,
      source: {
        name: cleanFileName(d.title ?? yt.videoId),
        kind: 'youtube',
        url: yt.url,
        size_bytes: d.sizeBytes,
        youtube: { video_id: yt.videoId, title: d.title, uploader: d.uploader },
      },
    };
  }
  ctx.progress('downloading_or_opening', 5, url ? 'Datei wird geladen' : 'Datei wird geöffnet');
  const input = await resolveInputFile(p, {
    config,
    jobId: job.job_id,
    maxBytes,
    signal: ctx.signal,
    extension: urlExtension(url),
    downloadTimeoutMs: m.download_timeout_sec * 1000,
  });
  if (input.source === 'url') cleanup.push(input.path);
  const size = (await stat(input.path)).size;
  return {
    path: input.path,
    source: {
      name: cleanFileName(input.name),
      kind: input.source,
      url: input.url,
      size_bytes: size,
    },
  };
};

export const runMediaJob = async (
  kind: MediaKind,
  deps: MediaDeps,
  job: Job,
  ctx: HandlerContext,
): Promise<Record<string, unknown>> => {
  const { config, models } = deps;
  const m = config.processors.media;
  const p = job.parameters;
  const rawSource = param<string>(p, 'source_language');
  const sourceLanguage =
    rawSource && rawSource.toLowerCase() !== 'auto' ? normaliseLanguage(rawSource) : null;
  const targetLanguage = normaliseLanguage(param<string>(p, 'target_language')) ?? null;
  const template = param<string>(p, 'template')?.trim() || null;
  const useCache = param<boolean>(p, 'use_cache') ?? true;
  const force = param<boolean>(p, 'force_refresh') ?? false;
  const override = {
    provider: param<string>(p, 'provider') ?? null,
    model: param<string>(p, 'model') ?? null,
  };
  const prompt = param<string>(p, 'prompt') ?? null;
  const context = param<Record<string, unknown>>(p, 'context') ?? {};

  ctx.progress('initializing', 0, 'Job initialisiert');
  // fail before any work when the provider, the template or a tool is missing
  const resolved = models.resolve('transcription', override);
  const applyTemplate = template
    ? prepareTranscriptTemplate(template, targetLanguage ?? 'de', deps)
    : null;
  await ensureTool('ffmpeg', m.ffmpeg_path);
  await ensureTool('ffprobe', m.ffprobe_path);

  const tmpRoot = join(config.paths.cache_dir, 'tmp');
  const stale = await removeStaleWorkDirs(tmpRoot, STALE_WORK_DIR_MS);
  if (stale) ctx.log('info', `removed ${stale} work dir(s) left by a stopped process`);
  const cleanup: string[] = [];
  try {
    const input = await openInput(kind, deps, job, ctx, cleanup);
    ctx.log(
      'info',
      `input: ${input.source.kind} ${input.source.name} (${input.source.size_bytes} bytes)`,
    );
    const contentHash = await hashFile(input.path);
    const cacheKey = mediaCacheKey(contentHash, {
      sourceLanguage,
      targetLanguage,
      template: applyTemplate ? `${applyTemplate.name ?? template}:${applyTemplate.digest}` : null,
      provider: resolved.provider,
      model: resolved.model,
      prompt,
    });
    const cachePath = mediaCachePath(config.paths.cache_dir, contentHash, cacheKey);
    const meta = { kind, source: input.source, sourceLanguage, targetLanguage, template, cacheKey };
    if (useCache && !force) {
      const hit = await readCachedTranscript(cachePath);
      if (hit) {
        ctx.log('info', `cache hit ${cacheKey}`);
        await touchCacheEntry(cachePath);
        ctx.progress('postprocessing', 95, 'Ergebnis aus dem Cache');
        return buildMediaResults(job, hit, { ...meta, fromCache: true });
      }
    }
    const transcribe: Transcriber = async (seg) => {
      const r = await models.transcribe({
        filePath: seg.filePath,
        language: sourceLanguage,
        prompt,
        durationSec: seg.durationSec,
        signal: seg.signal,
        usage: ctx.usage,
        useCache,
        purpose: 'transcription',
        processor: MAIN_PROCESSOR[kind],
        ...override,
      });
      return { text: r.text, segments: r.segments, language: r.language };
    };
    const t = await transcribeMedia({
      inputPath: input.path,
      name: input.source.name,
      ffmpeg: m.ffmpeg_path,
      ffprobe: m.ffprobe_path,
      tmpRoot,
      maxDurationSec: m.max_duration_sec,
      segmentation: {
        targetSec: m.segment_duration_sec,
        overlapSec: m.segment_overlap_sec,
        searchSec: m.silence_search_sec,
        noiseDb: -m.silence_below_db,
        minSilenceSec: m.silence_min_sec,
      },
      concurrency: m.transcribe_concurrency,
      transcribe,
      signal: ctx.signal,
      onProgress: (step, percent, message) => ctx.progress(step, percent, message),
      onSpawn: (pid) => ctx.log('debug', `tool started, pid ${pid}`),
    });
    ctx.log(
      'info',
      `transcribed ${Math.round(t.durationSec)} s in ${t.parts.length} segment(s), language ${t.language ?? 'unknown'}`,
    );
    let templateResult: CachedTranscript['template_result'] = null;
    if (applyTemplate) {
      ctx.progress('template', 92, `Template ${template} wird angewendet`);
      templateResult = await applyTemplate.apply({
        transcript: t.text,
        sourceLanguage: sourceLanguage ?? t.language,
        context: { source: input.source.name, ...context },
        signal: ctx.signal,
        usage: ctx.usage,
        useCache,
        log: (level, message) => ctx.log(level === 'warn' ? 'warning' : level, message),
      });
    }
    const result: CachedTranscript = {
      text: t.text,
      segments: t.segments,
      language: t.language ?? sourceLanguage,
      duration_sec: Math.round(t.durationSec * 1000) / 1000,
      segment_count: t.parts.length,
      template_result: templateResult,
      format: t.media.format,
      has_video: t.media.video.length > 0,
      provider: resolved.provider,
      model: resolved.model,
      created_at: new Date().toISOString(),
    };
    ctx.progress('postprocessing', 95, 'Ergebnisse werden gespeichert');
    await writeCachedTranscript(cachePath, result);
    return buildMediaResults(job, result, { ...meta, fromCache: false });
  } finally {
    for (const path of cleanup) await rm(path, { recursive: true, force: true });
  }
};

const DESCRIPTIONS: Record<MediaKind, string> = {
  audio:
    'Transcription of an audio file (segments cut in silences, transcribed concurrently, joined with timestamps); optional template.',
  video:
    'Transcription of the audio track of a video file or URL (YouTube URLs go through yt-dlp); optional template.',
  youtube:
    'Transcription of a YouTube video (audio downloaded with the configured yt-dlp); optional template.',
};

const mediaJobType = (kind: MediaKind, deps: MediaDeps): JobTypeDefinition => ({
  type: kind,
  description: DESCRIPTIONS[kind],
  parameters: mediaParameters,
  validate: validateMediaParameters(kind),
  handler: (job, ctx) => runMediaJob(kind, deps, job, ctx),
  callbackData: mediaCallbackData(kind),
  // long recordings: 4 h of audio at a few minutes per segment
  timeoutSec: 7200,
});

export const audioJobType = (deps: MediaDeps): JobTypeDefinition => mediaJobType('audio', deps);
export const videoJobType = (deps: MediaDeps): JobTypeDefinition => mediaJobType('video', deps);
export const youtubeJobType = (deps: MediaDeps): JobTypeDefinition => mediaJobType('youtube', deps);
