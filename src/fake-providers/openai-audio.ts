/**
 * The fake's `audio/transcriptions`: a transcript derived from the uploaded audio. For 16-bit
 * PCM WAV it measures the audio: duration, voiced stretches (split at pauses and at 10 s) and the
 * dominant tone (zero-crossing rate) of each voiced stretch, so a test that generates a different tone per part can
 * check that segments come back in order; silent windows give no text (an all-silent file gives
 * an empty transcript). Other formats get a transcript naming their size and content hash.
 */
import { createHash } from 'node:crypto';

export interface WavInfo {
  sampleRate: number;
  channels: number;
  durationSec: number;
  /** Mono samples scaled to -1..1. */
  samples: Float32Array;
}

/** Reads a RIFF/WAVE file with 16-bit PCM; null for anything else. */
export const readWav = (buf: Buffer): WavInfo | null => {
  if (
    buf.length < 44 ||
    buf.toString('ascii', 0, 4) !== 'RIFF' ||
    buf.toString('ascii', 8, 12) !== 'WAVE'
  )
    return null;
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data' && fmt) {
      // ffmpeg writing to a pipe leaves the size at 0 or 0xffffffff: read to the end
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      if (fmt.format !== 1 && fmt.format !== 0xfffe) return null;
      if (fmt.bits !== 16 || fmt.channels < 1) return null;
      const frames = Math.floor(size / (2 * fmt.channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++)
        samples[i] = buf.readInt16LE(body + i * 2 * fmt.channels) / 32768;
      return {
        sampleRate: fmt.rate,
        channels: fmt.channels,
        durationSec: frames / fmt.rate,
        samples,
      };
    }
    off = body + size + (size % 2);
  }
  return null;
};

export interface FakeSegment {
  id: number;
  start: number;
  end: number;
  text: string;
}

const FRAME_SEC = 0.02;
const MAX_SEGMENT_SEC = 10;
/** Pauses shorter than this stay inside one segment. */
const MIN_GAP_SEC = 0.3;

/**
 * Speech-like segments of the audio: voiced 20 ms frames grouped into runs (split at pauses of
 * 0.3 s or more and at 10 s), each named by its dominant frequency (zero crossings over the
 * voiced frames). Silence says nothing.
 */
export const describeWav = (wav: WavInfo): FakeSegment[] => {
  const frame = Math.max(1, Math.round(wav.sampleRate * FRAME_SEC));
  const frames: Array<{ voiced: boolean; crossings: number }> = [];
  for (let start = 0; start < wav.samples.length; start += frame) {
    const end = Math.min(wav.samples.length, start + frame);
    let energy = 0;
    let crossings = 0;
    for (let i = start; i < end; i++) {
      const s = wav.samples[i]!;
      energy += s * s;
      // crossings between this frame's first sample and the previous frame's last count too
      // (counting inside frames only reads every tone about 4 % low)
      if (i > 0 && wav.samples[i - 1]! < 0 !== s < 0) crossings++;
    }
    frames.push({ voiced: Math.sqrt(energy / (end - start)) >= 0.005, crossings });
  }
  const out: FakeSegment[] = [];
  const gapFrames = Math.round(MIN_GAP_SEC / FRAME_SEC);
  const maxFrames = Math.round(MAX_SEGMENT_SEC / FRAME_SEC);
  let i = 0;
  while (i < frames.length) {
    if (!frames[i]!.voiced) {
      i++;
      continue;
    }
    const first = i;
    let last = i;
    let silent = 0;
    let crossings = 0;
    let voiced = 0;
    for (; i < frames.length && i - first < maxFrames; i++) {
      if (frames[i]!.voiced) {
        last = i;
        silent = 0;
        crossings += frames[i]!.crossings;
        voiced++;
      } else if (++silent >= gapFrames) break;
    }
    const freq = (crossings / 2 / (voiced * frame)) * wav.sampleRate;
    const round2 = (n: number) => Math.round(n * 100) / 100;
    out.push({
      id: out.length,
      start: round2((first * frame) / wav.sampleRate),
      end: round2(Math.min(wav.samples.length, (last + 1) * frame) / wav.sampleRate),
      text: `Ton ${Math.round(freq / 10) * 10} Hz.`,
    });
  }
  return out;
};

const LANGUAGE_NAMES: Record<string, string> = {
  de: 'german',
  en: 'english',
  fr: 'french',
  it: 'italian',
  es: 'spanish',
};

export interface TranscriptionAnswer {
  text: string;
  language: string;
  duration: number | null;
  segments: FakeSegment[];
}

export const transcribe = (
  bytes: Buffer,
  fileName: string,
  language: string | null,
): TranscriptionAnswer => {
  const lang = LANGUAGE_NAMES[language ?? ''] ?? language ?? 'german';
  const wav = readWav(bytes);
  if (!wav) {
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    const text = `Audiodatei ${fileName} mit ${bytes.length} Bytes (sha256:${hash}).`;
    return { text, language: lang, duration: null, segments: [{ id: 0, start: 0, end: 0, text }] };
  }
  const segments = describeWav(wav);
  return {
    text: segments.map((s) => s.text).join(' '),
    language: lang,
    duration: Math.round(wav.durationSec * 1000) / 1000,
    segments,
  };
};

/** The body in the requested `response_format` (`json`, `verbose_json`, `text`, `srt`, `vtt`). */
export const transcriptionBody = (
  a: TranscriptionAnswer,
  format: string,
): { contentType: string; body: string } => {
  if (format === 'text' || format === 'srt' || format === 'vtt') {
    return { contentType: 'text/plain; charset=utf-8', body: a.text };
  }
  if (format === 'verbose_json') {
    return {
      contentType: 'application/json',
      body: JSON.stringify({
        task: 'transcribe',
        language: a.language,
        duration: a.duration ?? 0,
        text: a.text,
        segments: a.segments.map((s) => ({
          ...s,
          seek: 0,
          tokens: [],
          temperature: 0,
          avg_logprob: -0.2,
          compression_ratio: 1.2,
          no_speech_prob: 0.01,
        })),
      }),
    };
  }
  return { contentType: 'application/json', body: JSON.stringify({ text: a.text }) };
};
