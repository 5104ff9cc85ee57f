/**
 * The session's Markdown (original §8 step 7): the template's input text and context, and the
 * post-processing of the filled template:
 * - `slides` of the model's JSON enriched with the page text (base64) and the preview image;
 *   slides of pages the attachments do not have are dropped (without attachments a model's
 *   slides are invented); the frontmatter's `slides:` line replaced by the enriched array (or
 *   appended);
 * - `{slides}` → a Markdown table with Obsidian embeds (`![[<image>\|300]]`), or nothing;
 * - `{videoplayer}` (and a left-over `{{video_url}}`) → an `<iframe>` for Vimeo, a `<video>`
 *   element otherwise, or nothing without a video.
 */

export interface Slide {
  page_num: number;
  title: string;
  summary: string;
}

export interface EnrichedSlide extends Slide {
  /** The page's extracted text, base64 (UTF-8). */
  slide_text: string;
  /** The preview image, relative to the sessions base dir; "" when the page has none. */
  image_url: string;
}

/** The text the template model gets: the web page, then one description per slide. */
export const templateInputText = (webText: string, pageTexts: readonly string[]): string => {
  const slides = pageTexts.map((t, i) => `Description Slide ${i + 1}:\n ${t} \n\n`).join('');
  return `# Webtext:\n${webText}\n\n---\n\n# Slidesdescription:\n${slides}`;
};

export interface TemplateContextInput {
  event: string;
  session: string;
  track: string;
  day: string | null;
  starttime: string | null;
  endtime: string | null;
  speakers: string[];
  speakers_url: string[];
  speakers_image_url: string[];
  url: string;
  video_url: string | null;
  video_transcript: string;
  attachments_url: string | null;
  attachment_paths: string[];
  page_count: number;
  cache_key: string;
  source_language: string;
  target_language: string;
  template: string;
}

/** The template's context, with the original's keys (`video_mp4_url`: `.webm` → `.mp4`). */
export const templateContext = (c: TemplateContextInput): Record<string, unknown> => ({
  event: c.event,
  session: c.session,
  track: c.track,
  day: c.day,
  starttime: c.starttime,
  endtime: c.endtime,
  speakers: c.speakers,
  speakers_url: c.speakers_url,
  speakers_image_url: c.speakers_image_url,
  url: c.url,
  video_url: c.video_url,
  video_mp4_url: c.video_url ? c.video_url.replace('.webm', '.mp4') : null,
  video_transcript: c.video_transcript,
  attachments_url: c.attachments_url,
  attachment_paths: c.attachment_paths,
  page_count: c.page_count,
  cache_key: c.cache_key,
  source_language: c.source_language,
  target_language: c.target_language,
  template: c.template,
});

const text = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(text).filter(Boolean).join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  return '';
};

/**
 * The model's `slides` as slide objects. Objects keep their `page_num` (position when missing or
 * not a number), `title` and `summary`; an entry that is not an object (some models answer a
 * list of titles) becomes `{page_num: position, title: <its text>, summary: ""}`.
 */
export const normaliseSlides = (raw: unknown): Slide[] => {
  if (!Array.isArray(raw)) return [];
  return raw.map((entry, i) => {
    if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
      const o = entry as Record<string, unknown>;
      const n = Number(o.page_num ?? o.page ?? o.slide);
      return {
        page_num: Number.isInteger(n) && n > 0 ? n : i + 1,
        title: text(o.title).trim(),
        summary: text(o.summary ?? o.description).trim(),
      };
    }
    return { page_num: i + 1, title: text(entry).trim(), summary: '' };
  });
};

/** Slides with `slide_text` (base64 of the page's text) and `image_url` (the page's preview). */
export const enrichSlides = (
  slides: readonly Slide[],
  pageTexts: readonly string[],
  images: readonly string[],
): EnrichedSlide[] =>
  slides.map((s) => ({
    page_num: s.page_num,
    title: s.title,
    slide_text: Buffer.from(pageTexts[s.page_num - 1] ?? '', 'utf8').toString('base64'),
    summary: s.summary,
    image_url: images[s.page_num - 1] ?? '',
  }));

/** The `{slides}` table (Obsidian embeds at 300 px), or "" without slides. */
export const slidesTable = (slides: readonly EnrichedSlide[]): string => {
  if (!slides.length) return '';
  const cell = (s: string) => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim();
  const rows = slides.map((s) => {
    const title = cell(s.title);
    const summary = cell(s.summary);
    const description = title ? (summary ? `**${title}** — ${summary}` : `**${title}**`) : summary;
    const image = s.image_url ? `![[${s.image_url.replace(/\\/g, '/')}\\|300]]` : '';
    return `| ${image} | ${description} |`;
  });
  return `\n## Slides:\n|  |  |\n| --- | --- |\n${rows.join('\n')}\n`;
};

const attr = (url: string): string =>
  url.replace(/"/g, '%22').replace(/</g, '%3C').replace(/>/g, '%3E');

/** The `{videoplayer}` replacement: Vimeo → iframe, other URLs → `<video>`, none → "". */
export const videoPlayer = (videoUrl: string | null): string => {
  if (!videoUrl) return '';
  const u = attr(videoUrl);
  return /(^|\.|\/)vimeo\.com/i.test(videoUrl)
    ? `<iframe src="${u}" width="640" height="360" frameborder="0" allowfullscreen></iframe>`
    : `<video src="${u}" controls></video>`;
};

const FRONTMATTER = /^---\r?\n([\s\S]*?)\r?\n---(\r?\n|$)/;

/** Replaces the frontmatter's `slides:` line by the JSON array, or appends one; unchanged without frontmatter. */
export const withFrontmatterSlides = (
  markdown: string,
  slides: readonly EnrichedSlide[],
): string => {
  const m = FRONTMATTER.exec(markdown);
  if (!m) return markdown;
  const line = `slides: ${JSON.stringify(slides)}`;
  const lines = m[1]!.split(/\r?\n/);
  const at = lines.findIndex((l) => /^slides\s*:/.test(l));
  if (at >= 0) {
    // a multi-line YAML value below `slides:` (indented or list items) goes with it
    let end = at + 1;
    while (end < lines.length && /^(\s+|-\s)/.test(lines[end]!)) end++;
    lines.splice(at, end - at, line);
  } else lines.push(line);
  return `---\n${lines.join('\n')}\n---${m[2]}${markdown.slice(m[0].length)}`;
};

export interface FinishedMarkdown {
  markdown: string;
  structured_data: Record<string, unknown>;
  slides: EnrichedSlide[];
}

/** The filled template after the session's substitutions. */
export const finishSessionMarkdown = (
  filled: string,
  structured: Record<string, unknown>,
  opts: { pageTexts: readonly string[]; images: readonly string[]; videoUrl: string | null },
): FinishedMarkdown => {
  let markdown = filled;
  let structuredData = structured;
  let slides: EnrichedSlide[] = [];
  if (Array.isArray(structured.slides)) {
    // only slides of pages that exist: without attachments a model's slides are invented
    const real = normaliseSlides(structured.slides).filter(
      (s) => s.page_num <= opts.pageTexts.length,
    );
    slides = enrichSlides(real, opts.pageTexts, opts.images);
    structuredData = { ...structured, slides };
    markdown = withFrontmatterSlides(markdown, slides);
  }
  const player = videoPlayer(opts.videoUrl);
  markdown = markdown.split('{slides}').join(slidesTable(slides));
  markdown = markdown.split('{videoplayer}').join(player).split('{{video_url}}').join(player);
  return { markdown, structured_data: structuredData, slides };
};
