/**
 * One recording (audio or video file) → one transcript: probe, limits, the audio track as
 * mono 16 kHz WAV with silences detected in the same pass, segments cut near every
 * `targetSec` inside silences, segments transcribed concurrently (the transcriber is given;
 * the model gateway behind it bounds requests per provider), joined in order with shifted
 * timestamps. Every temporary file lives in one work dir that is removed whatever happens
 * (success, failure, cancel). Knows nothing of jobs.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UnrecoverableError } from '../../core/errors.js';
import type { TranscriptSegment } from '../llm/types.js';
import { abortError, mapLimited, throwIfAborted } from '../abort.js';
import { cutSegment, normalizeAudio } from './audio-extract.js';
import { probeMedia, type MediaInfo } from './probe.js';
import { planSegments, type PlannedSegment } from './segment-plan.js';
import {
  assertUsableTranscript,
  joinTranscripts,
  type JoinedTranscript,
} from './transcript-join.js';

/** What the transcriber returns for one segment file. */
export interface SegmentResult {
  text: string;
  segments: TranscriptSegment[];
  language: string | null;
}

export interface SegmentJob {
  /** A mono 16 kHz WAV file. */
  filePath: string;
  index: number;
  count: number;
  durationSec: number;
  signal: AbortSignal;
}

export type Transcriber = (job: SegmentJob) => Promise<SegmentResult>;

export interface SegmentationOptions {
  targetSec: number;
  overlapSec: number;
  searchSec: number;
  noiseDb: number;
  minSilenceSec: number;
}

export interface TranscribeMediaOptions {
  inputPath: string;
  /** The client's name of the file, for messages. */
  name: string;
  ffmpeg: string;
  ffprobe: string;
  /** Parent of the per-call work dir (same disk as the cache). */
  tmpRoot: string;
  maxDurationSec: number;
  segmentation: SegmentationOptions;
  /** Segments in flight at once. */
  concurrency: number;
  transcribe: Transcriber;
  signal: AbortSignal;
  onProgress?: (step: string, percent: number, message: string) => void;
  /** Every ffmpeg/ffprobe child started (pid), for logs. */
  onSpawn?: (pid: number) => void;
}

export interface MediaTranscript extends JoinedTranscript {
  durationSec: number;
  media: MediaInfo;
  /** The segments as cut, with the text each contributed. */
  parts: Array<{
    index: number;
    start: number;
    end: number;
    contentStart: number;
    inSilence: boolean;
    text: string;
  }>;
}

/** Percent of the job at which transcription starts and ends (progress `transcribing:i/n`). */
const TRANSCRIBE_FROM = 20;
const TRANSCRIBE_TO = 90;

const tooLong = (name: string, durationSec: number, max: number): UnrecoverableError =>
  new UnrecoverableError(
    `${name} is ${Math.round(durationSec)} s long; the limit is ${max} s (processors.media.max_duration_sec): split the recording or raise the limit`,
    'MEDIA_TOO_LONG',
    { duration_sec: Math.round(durationSec), max_duration_sec: max },
  );

export const transcribeMedia = async (opts: TranscribeMediaOptions): Promise<MediaTranscript> => {
  // a failed segment stops the others at once (their HTTP calls and ffmpeg children too)
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort(opts.signal.reason);
  if (opts.signal.aborted) onOuterAbort();
  else opts.signal.addEventListener('abort', onOuterAbort, { once: true });
  const signal = stop.signal;
  const progress = opts.onProgress ?? (() => undefined);
  const tool = { ffmpeg: opts.ffmpeg, signal, onSpawn: opts.onSpawn };
  await mkdir(opts.tmpRoot, { recursive: true });
  const work = await mkdtemp(join(opts.tmpRoot, 'media-'));
  try {
    progress('probing', 10, 'Mediendatei wird geprüft');
    const media = await probeMedia(opts.inputPath, {
      ffprobe: opts.ffprobe,
      signal,
      name: opts.name,
    });
    if (media.durationSec !== null && media.durationSec > opts.maxDurationSec) {
      throw tooLong(opts.name, media.durationSec, opts.maxDurationSec);
    }
    const seg = opts.segmentation;
    const mayNeedSplit = media.durationSec === null || media.durationSec > seg.targetSec;
    progress(
      'extracting_audio',
      15,
      media.video.length ? 'Tonspur wird aus dem Video gelöst' : 'Audio wird vorbereitet',
    );
    const wav = join(work, 'audio.wav');
    const silences = await normalizeAudio({
      ...tool,
      input: opts.inputPath,
      output: wav,
      silence: mayNeedSplit ? { noiseDb: seg.noiseDb, minSec: seg.minSilenceSec } : null,
      durationSec: media.durationSec,
    });
    // the WAV's own length is exact (containers sometimes state none or a wrong one)
    const wavInfo = await probeMedia(wav, { ffprobe: opts.ffprobe, signal, name: opts.name });
    const durationSec = wavInfo.durationSec ?? media.durationSec ?? 0;
    if (durationSec > opts.maxDurationSec)
      throw tooLong(opts.name, durationSec, opts.maxDurationSec);
    if (durationSec <= 0) {
      throw new UnrecoverableError(`${opts.name} holds no audio samples`, 'UNSUPPORTED_FILE');
    }
    const plan: PlannedSegment[] = planSegments(durationSec, silences, {
      targetSec: seg.targetSec,
      overlapSec: seg.overlapSec,
      searchSec: seg.searchSec,
    });
    const n = plan.length;
    progress('segmenting', TRANSCRIBE_FROM, n > 1 ? `${n} Segmente` : '1 Segment');
    let done = 0;
    progress(`transcribing:0/${n}`, TRANSCRIBE_FROM, `Transkription 0/${n}`);
    const transcribeOne = async (p: PlannedSegment): Promise<SegmentResult> => {
      throwIfAborted(signal);
      let file = wav;
      if (n > 1) {
        file = join(work, `segment_${String(p.index + 1).padStart(3, '0')}.wav`);
        await cutSegment({
          ...tool,
          input: wav,
          output: file,
          startSec: p.start,
          durationSec: p.end - p.start,
        });
      }
      try {
        const r = await opts.transcribe({
          filePath: file,
          index: p.index,
          count: n,
          durationSec: p.end - p.start,
          signal,
        });
        done += 1;
        progress(
          `transcribing:${done}/${n}`,
          TRANSCRIBE_FROM + ((TRANSCRIBE_TO - TRANSCRIBE_FROM) * done) / n,
          `Transkription ${done}/${n}`,
        );
        return r;
      } finally {
        if (file !== wav) await rm(file, { force: true });
      }
    };
    const results = await mapLimited(
      plan,
      Math.max(1, opts.concurrency),
      async (p) => {
        try {
          return await transcribeOne(p);
        } catch (err) {
          // the first failure stops the rest; what they throw then is that failure, so the
          // root cause (not "aborted") is what the job reports
          if (signal.aborted) throw abortError(signal);
          stop.abort(err);
          throw err;
        }
      },
      signal,
    );
    throwIfAborted(signal);
    const parts = plan.map((p, i) => ({
      index: p.index,
      offsetSec: p.start,
      contentStart: p.contentStart,
      text: results[i]!.text,
      segments: results[i]!.segments,
      language: results[i]!.language,
    }));
    const joined = joinTranscripts(parts);
    assertUsableTranscript(
      joined.text,
      parts.map((p) => ({ index: p.index, text: p.text })),
    );
    return {
      ...joined,
      durationSec,
      media,
      parts: plan.map((p, i) => ({
        index: p.index,
        start: p.start,
        end: p.end,
        contentStart: p.contentStart,
        inSilence: p.inSilence,
        text: results[i]!.text.trim(),
      })),
    };
  } finally {
    opts.signal.removeEventListener('abort', onOuterAbort);
    await rm(work, { recursive: true, force: true });
  }
};

/**
 * Removes work dirs (`media-*`, `youtube-*`) under `tmpRoot` untouched for `olderThanMs`: what
 * a killed process left behind (a normal run removes its own). Best effort; never throws.
 */
export const removeStaleWorkDirs = async (
  tmpRoot: string,
  olderThanMs: number,
  now = Date.now(),
): Promise<number> => {
  let removed = 0;
  const names = await readdir(tmpRoot).catch(() => [] as string[]);
  for (const name of names) {
    if (!/^(media|youtube)-/.test(name)) continue;
    const path = join(tmpRoot, name);
    const st = await stat(path).catch(() => null);
    if (!st?.isDirectory() || now - st.mtimeMs < olderThanMs) continue;
    await rm(path, { recursive: true, force: true }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
};
