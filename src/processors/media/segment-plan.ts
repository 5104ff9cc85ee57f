/**
 * Where to cut long audio: near every `targetSec`, inside a silence when one lies within
 * `searchSec` of the ideal point (so no word is cut in half), else exactly at the ideal point.
 * Every segment after the first starts `overlapSec` before its cut, so a word at the cut is
 * heard twice; the join drops what lies before the cut (`transcript-join.ts`). Pure.
 */

export interface Silence {
  /** Seconds from the start. */
  start: number;
  end: number;
}

export interface SegmentPlanOptions {
  /** Ideal segment length in seconds (`segment_duration_sec`). */
  targetSec: number;
  /** Seconds each segment after the first starts before its cut (`segment_overlap_sec`). */
  overlapSec: number;
  /** How far from the ideal cut a silence may lie (`silence_search_sec`). */
  searchSec: number;
}

export interface PlannedSegment {
  index: number;
  /** Where the segment's audio starts (its cut minus the overlap; 0 for the first). */
  start: number;
  /** Where its audio ends (the next cut, or the end). */
  end: number;
  /** Where its own content starts: its cut (0 for the first). Earlier audio is overlap. */
  contentStart: number;
  /** Whether the cut lies in a silence (false: a hard cut at the ideal point, or the first). */
  inSilence: boolean;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Parses ffmpeg `silencedetect` lines; a silence still open at the end closes at `durationSec`. */
export const parseSilences = (ffmpegLog: string, durationSec: number | null): Silence[] => {
  const out: Silence[] = [];
  let open: number | null = null;
  for (const line of ffmpegLog.split(/\r?\n/)) {
    const s = /silence_start:\s*(-?[\d.]+)/.exec(line);
    if (s) {
      open = Math.max(0, Number(s[1]));
      continue;
    }
    const e = /silence_end:\s*([\d.]+)/.exec(line);
    if (e && open !== null) {
      out.push({ start: open, end: Number(e[1]) });
      open = null;
    }
  }
  if (open !== null && durationSec !== null && durationSec > open) out.push({ start: open, end: durationSec });
  return out.filter((x) => Number.isFinite(x.start) && Number.isFinite(x.end) && x.end > x.start);
};

/**
 * Plans the segments of `durationSec` of audio. Audio no longer than `targetSec + searchSec`
 * is one segment; otherwise cuts are placed one after another, each near the previous cut
 * plus `targetSec`, and the last segment may run up to `targetSec + searchSec`.
 */
export const planSegments = (
  durationSec: number,
  silences: readonly Silence[],
  opts: SegmentPlanOptions,
): PlannedSegment[] => {
  const target = Math.max(1, opts.targetSec);
  const search = Math.max(0, Math.min(opts.searchSec, target / 2));
  const overlap = Math.max(0, Math.min(opts.overlapSec, target / 4));
  const cuts: Array<{ at: number; inSilence: boolean }> = [];
  let pos = 0;
  while (durationSec - pos > target + search) {
    const ideal = pos + target;
    let best: { at: number; distance: number; length: number } | null = null;
    for (const s of silences) {
      const mid = (s.start + s.end) / 2;
      const distance = Math.abs(mid - ideal);
      // a cut must leave real content on both sides
      if (distance > search || mid <= pos + target / 2 || mid >= durationSec - 1) continue;
      const length = s.end - s.start;
      if (!best || distance < best.distance - 1e-9 || (Math.abs(distance - best.distance) < 1e-9 && length > best.length)) {
        best = { at: mid, distance, length };
      }
    }
    const at = best ? best.at : ideal;
    cuts.push({ at: round3(at), inSilence: Boolean(best) });
    pos = at;
  }
  const bounds = [{ at: 0, inSilence: false }, ...cuts];
  return bounds.map((b, i) => ({
    index: i,
    start: i === 0 ? 0 : round3(Math.max(0, b.at - overlap)),
    end: i + 1 < bounds.length ? bounds[i + 1]!.at : round3(durationSec),
    contentStart: b.at,
    inSilence: b.inSilence,
  }));
};
