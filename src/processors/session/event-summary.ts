/**
 * The input of an event summary: the processed sessions of one event and language, grouped by
 * track, each with its title, topic, relevance, an Obsidian link to its note and an excerpt of
 * its summary — bounded, so a large event still fits one model call. The original ran a
 * TrackProcessor per track first and summarised those; here one call sees all sessions
 * (documented in docs/sessions.md).
 */

export interface EventSessionEntry {
  track: string;
  session: string;
  /** Relative to the sessions base dir (`<event>/<lang>/<track>/<file>.md`). */
  markdown_file: string;
  structured_data: Record<string, unknown>;
  markdown_content: string;
}

/** Characters of each session's excerpt. */
export const EXCERPT_CHARS = 1200;
/** Characters of the whole input text. */
export const EVENT_TEXT_MAX = 120_000;

const str = (v: unknown): string => {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(str).filter(Boolean).join(', ');
  return '';
};

/** The Markdown body without frontmatter, as one line of at most `max` characters. */
const excerptOf = (e: EventSessionEntry, max: number): string => {
  const sd = e.structured_data;
  const fromFields = [sd.intro, sd.summary, sd.abstract].map(str).filter(Boolean).join(' ');
  const body = e.markdown_content.replace(/^---\r?\n[\s\S]*?\r?\n---\r?\n?/, '');
  const source = fromFields || body;
  const flat = source.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export interface EventSummaryInput {
  text: string;
  context: Record<string, unknown>;
  /** Sessions included in the text (the rest did not fit). */
  included: number;
}

export const eventSummaryInput = (
  event: string,
  targetLanguage: string,
  entries: readonly EventSessionEntry[],
): EventSummaryInput => {
  const tracks = new Map<string, EventSessionEntry[]>();
  for (const e of [...entries].sort(
    (a, b) => a.track.localeCompare(b.track) || a.session.localeCompare(b.session),
  )) {
    tracks.set(e.track, [...(tracks.get(e.track) ?? []), e]);
  }
  let text = `# Event: ${event}\n\nSprache: ${targetLanguage} · Tracks: ${tracks.size} · Sessions: ${entries.length}\n`;
  let included = 0;
  outer: for (const [track, sessions] of tracks) {
    const head = `\n## Track: ${track}\n`;
    if (text.length + head.length > EVENT_TEXT_MAX) break;
    text += head;
    for (const s of sessions) {
      const title = str(s.structured_data.title) || s.session;
      const meta = [
        str(s.structured_data.topic) && `Thema: ${str(s.structured_data.topic)}`,
        str(s.structured_data.relevance) && `Relevanz: ${str(s.structured_data.relevance)}`,
      ].filter(Boolean);
      const block =
        `\n### ${title}\n` +
        `Session: ${s.session}\n` +
        `Obsidian-Link: [[${s.markdown_file.replace(/\.md$/, '')}]]\n` +
        (meta.length ? `${meta.join(' · ')}\n` : '') +
        `${excerptOf(s, EXCERPT_CHARS)}\n`;
      if (text.length + block.length > EVENT_TEXT_MAX) break outer;
      text += block;
      included++;
    }
  }
  return {
    text,
    included,
    context: {
      event,
      target_language: targetLanguage,
      track_count: tracks.size,
      session_count: entries.length,
      tracks: [...tracks.keys()],
    },
  };
};
