/** Segment planning, silence parsing, the ordered join with overlap removal, YouTube URLs (pure functions). */
import { describe, expect, it } from 'vitest';
import {
  assertUsableTranscript,
  joinTranscripts,
  parseSilences,
  parseYoutubeUrl,
  planSegments,
  repeatedWords,
} from '../../src/processors/media/index.js';
import type { SecretaryError } from '../../src/core/errors.js';

const opts = { targetSec: 300, overlapSec: 1, searchSec: 30 };

describe('planSegments', () => {
  it('keeps audio up to target + search in one segment', () => {
    expect(planSegments(320, [], opts)).toEqual([{ index: 0, start: 0, end: 320, contentStart: 0, inSilence: false }]);
  });

  it('cuts inside the silence nearest to each ideal point, with the overlap before each cut', () => {
    const plan = planSegments(720, [
      { start: 100, end: 101 },
      { start: 288, end: 292 },
      { start: 588, end: 592 },
    ], opts);
    expect(plan.map((p) => [p.start, p.end, p.contentStart, p.inSilence])).toEqual([
      [0, 290, 0, false],
      [289, 590, 290, true],
      [589, 720, 590, true],
    ]);
  });

  it('cuts hard at the ideal point when no silence is near, and never leaves a tail longer than target + search', () => {
    const plan = planSegments(1000, [{ start: 10, end: 11 }], opts);
    expect(plan.map((p) => p.contentStart)).toEqual([0, 300, 600, 900]);
    expect(plan.every((p) => !p.inSilence)).toBe(true);
    expect(plan.at(-1)!.end - plan.at(-1)!.contentStart).toBeLessThanOrEqual(330);
    // consecutive: each segment's audio ends where the next one's content starts
    for (let i = 1; i < plan.length; i++) expect(plan[i - 1]!.end).toBe(plan[i]!.contentStart);
  });

  it('prefers the closer silence, then the longer one', () => {
    const plan = planSegments(700, [
      { start: 280, end: 281 },
      { start: 305, end: 307 },
      { start: 318, end: 330 },
    ], opts);
    expect(plan[1]!.contentStart).toBe(306);
  });
});

describe('parseSilences', () => {
  it('reads silencedetect lines and closes a silence that runs to the end', () => {
    const log = [
      '[silencedetect @ 0x1] silence_start: 288',
      '[silencedetect @ 0x1] silence_end: 292 | silence_duration: 4.00006',
      'size=N/A time=00:12:00.00',
      '[silencedetect @ 0x1] silence_start: 715.5',
    ].join('\n');
    expect(parseSilences(log, 720)).toEqual([
      { start: 288, end: 292 },
      { start: 715.5, end: 720 },
    ]);
  });
});

describe('joinTranscripts', () => {
  it('shifts timestamps by each segment offset, keeps the order, drops pieces inside the overlap', () => {
    const joined = joinTranscripts([
      { index: 1, offsetSec: 289, contentStart: 290, language: 'de', text: 'x', segments: [
        { start: 0, end: 0.8, text: 'Ende des ersten Teils.' },
        { start: 3, end: 9, text: 'Zweiter Teil.' },
      ] },
      { index: 0, offsetSec: 0, contentStart: 0, language: 'de', text: 'x', segments: [
        { start: 0, end: 5, text: 'Erster Teil.' },
        { start: 288.3, end: 289.8, text: 'Ende des ersten Teils.' },
      ] },
    ]);
    expect(joined.text).toBe('Erster Teil. Ende des ersten Teils. Zweiter Teil.');
    expect(joined.segments.map((s) => [s.start, s.end])).toEqual([
      [0, 5],
      [288.3, 289.8],
      [292, 298],
    ]);
    expect(joined.language).toBe('de');
  });

  it('without timestamps drops words the next segment repeats from the overlap', () => {
    const joined = joinTranscripts([
      { index: 0, offsetSec: 0, contentStart: 0, language: null, text: 'wir treffen uns morgen um neun Uhr', segments: [] },
      { index: 1, offsetSec: 299, contentStart: 300, language: 'de', text: 'um neun Uhr. Bitte pünktlich sein.', segments: [] },
    ]);
    expect(joined.text).toBe('wir treffen uns morgen um neun Uhr Bitte pünktlich sein.');
  });

  it('does not take two equal words for a repetition', () => {
    expect(repeatedWords('danke danke', 'danke danke schön')).toBe(0);
    expect(repeatedWords('A, b c d', 'B C d e')).toBe(3);
  });
});

describe('assertUsableTranscript', () => {
  const code = (fn: () => void) => {
    try {
      fn();
      return null;
    } catch (err) {
      return (err as SecretaryError).code;
    }
  };
  it('refuses empty text and error markers', () => {
    expect(code(() => assertUsableTranscript('  '))).toBe('TRANSCRIPTION_FAILED');
    expect(code(() => assertUsableTranscript('[Transkription fehlgeschlagen: timeout]'))).toBe('TRANSCRIPTION_FAILED');
    expect(code(() => assertUsableTranscript('ok', [{ index: 1, text: '[Transkriptionsfehler] 500' }]))).toBe('TRANSCRIPTION_FAILED');
    expect(code(() => assertUsableTranscript('Guten Tag.'))).toBeNull();
  });
});

describe('parseYoutubeUrl', () => {
  it.each([
    ['https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'dQw4w9WgXcQ'],
    ['https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s&list=PL1', 'dQw4w9WgXcQ'],
    ['https://m.youtube.com/watch?v=dQw4w9WgXcQ', 'dQw4w9WgXcQ'],
    ['https://youtu.be/dQw4w9WgXcQ?si=abc', 'dQw4w9WgXcQ'],
    ['https://www.youtube.com/shorts/aBcDeFgHiJ_', 'aBcDeFgHiJ_'],
    ['https://www.youtube.com/live/aBcDeFgHiJ-', 'aBcDeFgHiJ-'],
  ])('accepts %s', (url, id) => {
    expect(parseYoutubeUrl(url)).toEqual({ videoId: id, url: `https://www.youtube.com/watch?v=${id}` });
  });

  it.each([
    'https://www.youtube.com/watch?v=short',
    'https://evil.example/watch?v=dQw4w9WgXcQ',
    'https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ',
    'ftp://youtu.be/dQw4w9WgXcQ',
    'https://user:pw@youtu.be/dQw4w9WgXcQ',
    'https://www.youtube.com/playlist?list=PL1',
    'https://youtu.be/dQw4w9WgXcQ/--exec=rm',
    'not a url',
  ])('refuses %s', (url) => {
    expect(parseYoutubeUrl(url)).toBeNull();
  });
});
