/**
 * Joins the transcripts of a recording's segments in order: each segment's timestamps are
 * shifted by where its audio starts, what lies in the overlap before its cut is dropped (by
 * timestamps when the provider gave them; without timestamps, or for a piece that straddles
 * the cut, by dropping leading words that repeat the previous text), and the texts are joined. Also the check that a transcript is usable. Pure.
 */
import { UnrecoverableError } from '../../core/errors.js';
import type { TranscriptSegment } from '../llm/types.js';

export interface SegmentTranscript {
  index: number;
  /** Where the segment's audio starts in the recording (seconds). */
  offsetSec: number;
  /** Where its own content starts (its cut); earlier audio repeats the previous segment. */
  contentStart: number;
  text: string;
  /** Timestamps relative to the segment's audio. */
  segments: TranscriptSegment[];
  language: string | null;
}

export interface JoinedTranscript {
  text: string;
  /** Timestamps relative to the recording. */
  segments: TranscriptSegment[];
  language: string | null;
}

/** Words repeated across a cut are looked for up to this many words back. */
const MAX_OVERLAP_WORDS = 24;
/** Fewer equal words than this are not taken as a repetition (could be real speech). */
const MIN_OVERLAP_WORDS = 3;

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const normWord = (w: string): string => w.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/** How many leading words of `next` repeat the trailing words of `prev` (0 when fewer than the minimum). */
export const repeatedWords = (prev: string, next: string): number => {
  const a = prev.split(/\s+/).filter(Boolean).slice(-MAX_OVERLAP_WORDS).map(normWord);
  const b = next.split(/\s+/).filter(Boolean).slice(0, MAX_OVERLAP_WORDS).map(normWord);
  for (let k = Math.min(a.length, b.length); k >= MIN_OVERLAP_WORDS; k--) {
    let same = true;
    for (let i = 0; i < k; i++) {
      if (a[a.length - k + i] !== b[i] || !b[i]) {
        same = false;
        break;
      }
    }
    if (same) return k;
  }
  return 0;
};

const dropWords = (text: string, n: number): string => text.trim().split(/\s+/).slice(n).join(' ');

/** Drops `n` leading words from a list of timed segments (removing those left empty). */
const dropSegmentWords = (segs: TranscriptSegment[], n: number): TranscriptSegment[] => {
  let left = n;
  const out: TranscriptSegment[] = [];
  for (const s of segs) {
    if (left <= 0) {
      out.push(s);
      continue;
    }
    const words = s.text.trim().split(/\s+/).filter(Boolean);
    if (words.length <= left) {
      left -= words.length;
      continue;
    }
    out.push({ ...s, text: words.slice(left).join(' ') });
    left = 0;
  }
  return out;
};

export const joinTranscripts = (parts: readonly SegmentTranscript[]): JoinedTranscript => {
  const ordered = [...parts].sort((a, b) => a.index - b.index);
  const texts: string[] = [];
  const segments: TranscriptSegment[] = [];
  const languages = new Map<string, number>();
  for (const [n, p] of ordered.entries()) {
    if (p.language) languages.set(p.language, (languages.get(p.language) ?? 0) + 1);
    let segs = p.segments
      .map((s) => ({ start: round3(s.start + p.offsetSec), end: round3(s.end + p.offsetSec), text: s.text.trim() }))
      .filter((s) => s.text);
    let text: string;
    // whether this segment's text may repeat words of the overlap: always without timestamps,
    // with them only when its first kept piece starts before the cut (straddles it)
    let mayRepeat = n > 0;
    if (segs.length > 0) {
      // a timed piece belongs to the segment in which its middle lies
      if (n > 0) segs = segs.filter((s) => (s.start + s.end) / 2 >= p.contentStart - 1e-3);
      mayRepeat = n > 0 && segs.length > 0 && segs[0]!.start < p.contentStart - 1e-3;
      text = segs.map((s) => s.text).join(' ');
    } else {
      text = p.text.trim();
    }
    const prev = texts.length ? texts[texts.length - 1]! : '';
    const repeated = mayRepeat && prev ? repeatedWords(prev, text) : 0;
    if (repeated > 0) {
      text = dropWords(text, repeated);
      segs = dropSegmentWords(segs, repeated);
    }
    if (text) texts.push(text);
    segments.push(...segs);
  }
  const language = [...languages.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  return { text: texts.join(' ').trim(), segments, language };
};

/** Texts a transcription service writes instead of a transcript (the original's markers and similar). */
const ERROR_MARKERS = [/^\s*\[\s*transkription\s*fehlgeschlagen/i, /^\s*\[\s*transkriptionsfehler/i, /^\s*\[\s*transcription\s*(failed|error)/i];

/** `TRANSCRIPTION_FAILED` when the text is empty or any part is an error marker. */
export const assertUsableTranscript = (text: string, parts: readonly { index: number; text: string }[] = []): void => {
  for (const p of parts) {
    if (ERROR_MARKERS.some((re) => re.test(p.text))) {
      throw new UnrecoverableError(
        `the transcription of segment ${p.index + 1} is an error message from the provider (${p.text.trim().slice(0, 120)}); try again later or with another transcription model`,
        'TRANSCRIPTION_FAILED',
        { segment: p.index + 1 },
      );
    }
  }
  if (ERROR_MARKERS.some((re) => re.test(text))) {
    throw new UnrecoverableError(
      `the transcription is an error message from the provider (${text.trim().slice(0, 120)}); try again later or with another transcription model`,
      'TRANSCRIPTION_FAILED',
    );
  }
  if (!text.trim()) {
    throw new UnrecoverableError(
      'the transcription is empty: the recording holds no recognisable speech (or only silence); check the file, or set source_language if the language was misdetected',
      'TRANSCRIPTION_FAILED',
    );
  }
};
