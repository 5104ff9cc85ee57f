/**
 * ffmpeg steps: the first audio track of any input (audio or video) → mono 16 kHz 16-bit WAV
 * (what speech models want; 32 kB per second), with silence detection in the same pass; and
 * cutting one segment out of that WAV (input seek, so fast at any offset, and sample-exact).
 */
import { resolve } from 'node:path';
import { runTool } from './media-tools.js';
import { parseSilences, type Silence } from './segment-plan.js';

export const SAMPLE_RATE = 16_000;

export interface ToolContext {
  ffmpeg: string;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

export interface NormalizeOptions extends ToolContext {
  input: string;
  output: string;
  /** Detect silences in the same pass (`silencedetect`); null: skip. */
  silence: { noiseDb: number; minSec: number } | null;
  /** Known duration, used to close a silence that runs to the end. */
  durationSec: number | null;
}

/** Writes the normalised WAV; returns the silences found (empty when not asked). */
export const normalizeAudio = async (opts: NormalizeOptions): Promise<Silence[]> => {
  const filters = opts.silence
    ? ['-af', `silencedetect=noise=${opts.silence.noiseDb}dB:duration=${opts.silence.minSec}`]
    : [];
  const { stderr } = await runTool(
    opts.ffmpeg,
    [
      '-nostdin',
      '-hide_banner',
      '-nostats',
      '-y',
      '-i',
      resolve(opts.input),
      '-map',
      '0:a:0',
      '-vn',
      '-sn',
      '-dn',
      ...filters,
      '-ac',
      '1',
      '-ar',
      String(SAMPLE_RATE),
      '-c:a',
      'pcm_s16le',
      '-f',
      'wav',
      resolve(opts.output),
    ],
    { signal: opts.signal, onSpawn: opts.onSpawn, label: 'ffmpeg (audio extraction)' },
  );
  return opts.silence ? parseSilences(stderr, opts.durationSec) : [];
};

export interface CutOptions extends ToolContext {
  /** A WAV written by `normalizeAudio`. */
  input: string;
  output: string;
  startSec: number;
  durationSec: number;
}

/** Copies `[start, start + duration)` of the WAV into its own WAV file. */
export const cutSegment = async (opts: CutOptions): Promise<void> => {
  await runTool(
    opts.ffmpeg,
    [
      '-nostdin',
      '-hide_banner',
      '-nostats',
      '-v',
      'error',
      '-y',
      '-ss',
      opts.startSec.toFixed(3),
      '-t',
      opts.durationSec.toFixed(3),
      '-i',
      resolve(opts.input),
      '-c:a',
      'pcm_s16le',
      '-f',
      'wav',
      resolve(opts.output),
    ],
    { signal: opts.signal, onSpawn: opts.onSpawn, label: 'ffmpeg (segment cut)' },
  );
};
