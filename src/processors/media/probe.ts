/**
 * What a media file holds, asked of ffprobe: container, duration, audio and video streams.
 * A file ffprobe cannot read is `UNSUPPORTED_FILE` (never a stack trace).
 */
import { resolve } from 'node:path';
import { SecretaryError, UnrecoverableError } from '../../core/errors.js';
import { runTool } from './media-tools.js';

export interface MediaStreamInfo {
  index: number;
  codec: string | null;
  /** Audio: samples per second; video: null. */
  sampleRate: number | null;
  channels: number | null;
  /** Video: width × height; audio: null. */
  width: number | null;
  height: number | null;
}

export interface MediaInfo {
  /** Seconds, or null when neither the container nor a stream says. */
  durationSec: number | null;
  /** ffprobe's `format_name`, e.g. `wav`, `mov,mp4,m4a,3gp,3g2,mj2`. */
  format: string;
  audio: MediaStreamInfo[];
  video: MediaStreamInfo[];
  /** Container bit rate in bit/s, when known. */
  bitRate: number | null;
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

interface RawStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  sample_rate?: string;
  channels?: number;
  width?: number;
  height?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
}

/** Parses `ffprobe -print_format json -show_format -show_streams` output. */
export const parseProbe = (json: string): MediaInfo => {
  let raw: { format?: Record<string, unknown>; streams?: RawStream[] };
  try {
    raw = JSON.parse(json) as typeof raw;
  } catch {
    throw new UnrecoverableError('ffprobe gave no readable answer for the file', 'UNSUPPORTED_FILE');
  }
  const streams = Array.isArray(raw.streams) ? raw.streams : [];
  const info = (s: RawStream): MediaStreamInfo => ({
    index: s.index ?? 0,
    codec: s.codec_name ?? null,
    sampleRate: num(s.sample_rate),
    channels: num(s.channels),
    width: num(s.width),
    height: num(s.height),
  });
  const streamDurations = streams.map((s) => num(s.duration)).filter((d): d is number => d !== null);
  const formatDuration = num(raw.format?.duration);
  return {
    durationSec: formatDuration ?? (streamDurations.length ? Math.max(...streamDurations) : null),
    format: typeof raw.format?.format_name === 'string' ? raw.format.format_name : 'unknown',
    audio: streams.filter((s) => s.codec_type === 'audio').map(info),
    // cover art in an mp3/m4a is a "video" stream with attached_pic; it is not a video
    video: streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic).map(info),
    bitRate: num(raw.format?.bit_rate),
  };
};

export interface ProbeOptions {
  ffprobe: string;
  signal?: AbortSignal;
  /** Shown in messages instead of the path (the client's file name). */
  name?: string;
}

/** Probes a file; `UNSUPPORTED_FILE` when ffprobe cannot read it or it has no audio track. */
export const probeMedia = async (filePath: string, opts: ProbeOptions): Promise<MediaInfo> => {
  const name = opts.name ?? 'the file';
  let out: string;
  try {
    ({ stdout: out } = await runTool(
      opts.ffprobe,
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', resolve(filePath)],
      { signal: opts.signal, label: 'ffprobe', failureCode: 'UNSUPPORTED_FILE', timeoutMs: 120_000 },
    ));
  } catch (err) {
    if (err instanceof SecretaryError && err.code === 'UNSUPPORTED_FILE') {
      const output = typeof err.details?.output === 'string' ? err.details.output : '';
      throw new UnrecoverableError(
        `${name} is not an audio or video file that ffmpeg can read${output ? ` (${output.split('\n').pop()})` : ''}; send one of flac, m4a, mp3, mp4, ogg, opus, wav, webm or another common format`,
        'UNSUPPORTED_FILE',
        { output },
      );
    }
    throw err;
  }
  const info = parseProbe(out);
  if (info.audio.length === 0) {
    throw new UnrecoverableError(
      `${name} has no audio track (${info.format}${info.video.length ? ', video only' : ''}); there is nothing to transcribe`,
      'UNSUPPORTED_FILE',
      { format: info.format },
    );
  }
  return info;
};
