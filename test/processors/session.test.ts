/**
 * The session pipeline's pure parts: path sanitising (the original's bugs fixed, traversal
 * refused), the cache key (byte-equal to the original's Python serialisation), slide enrichment,
 * the `{slides}` table, the video player, the frontmatter `slides:` line and the event summary
 * input.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SecretaryError } from '../../src/core/errors.js';
import {
  enrichSlides,
  eventSummaryInput,
  EVENT_TEXT_MAX,
  finishSessionMarkdown,
  normaliseSlides,
  pathProblems,
  pythonJson,
  sanitizePathPart,
  sessionCacheKey,
  sessionFileName,
  sessionLayout,
  slidesTable,
  templateInputText,
  videoPlayer,
  withFrontmatterSlides,
} from '../../src/processors/session/index.js';

const python = (() => {
  try {
    execFileSync('python3', ['-c', 'print(1)'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('sanitizePathPart', () => {
  it('keeps hyphens and does not append .md (the original turned - into spaces and suffixed directories)', () => {
    expect(sanitizePathPart('Main-Track-Janson-7')).toBe('Main-Track-Janson-7');
    expect(sanitizePathPart('x'.repeat(80))).toBe('x'.repeat(50));
    expect(sanitizePathPart('x'.repeat(80))).not.toMatch(/\.md$/);
  });

  it('replaces <>:"/\\|?* and control characters, collapses runs, trims dots and spaces', () => {
    expect(sanitizePathPart('a<b>c:d"e/f\\g|h?i*j')).toBe('a_b_c_d_e_f_g_h_i_j');
    expect(sanitizePathPart('a\u0000\u0007b')).toBe('a_b');
    expect(sanitizePathPart('a//\\\\b')).toBe('a_b');
    expect(sanitizePathPart('FOSDEM   2025')).toBe('FOSDEM 2025');
    expect(sanitizePathPart('..')).toBe('');
    expect(sanitizePathPart('.hidden.')).toBe('hidden');
    expect(sanitizePathPart('a\u202Eb\u200Bc')).toBe('abc');
    expect(sanitizePathPart('CON')).toBe('CON_');
  });

  it('cuts at 50 code points, never inside a surrogate pair', () => {
    const s = sanitizePathPart('😀'.repeat(60));
    expect(Array.from(s)).toHaveLength(50);
    expect(s).toBe('😀'.repeat(50));
  });
});

describe('sessionFileName and sessionLayout', () => {
  it('appends .md once, to the file only; derives the name from the session title', () => {
    expect(sessionFileName('Forked-Communities.md', 'x')).toBe('Forked-Communities.md');
    expect(sessionFileName('Forked-Communities', 'x')).toBe('Forked-Communities.md');
    expect(sessionFileName(null, 'Forked Communities: Re-licensing?')).toBe(
      'Forked Communities_ Re-licensing.md',
    );
    expect(sessionFileName(`${'a'.repeat(70)}.md`, 'x')).toBe(`${'a'.repeat(50)}.md`);
  });

  it('lays out <event>/<lang>/<track>/<file>.md and <event>/assets/<session>/', () => {
    const l = sessionLayout('/base', {
      event: 'FOSDEM 2025',
      track: 'Main/Track',
      targetLanguage: 'DE',
      filename: 'Talk.md',
      session: 'Talk',
    });
    expect(l.rel).toEqual({
      targetDir: 'FOSDEM 2025/de/Main_Track',
      markdownFile: 'FOSDEM 2025/de/Main_Track/Talk.md',
      assetDir: 'FOSDEM 2025/assets/Talk',
    });
    expect(l.abs.markdownFile).toBe(join('/base', 'FOSDEM 2025', 'de', 'Main_Track', 'Talk.md'));
  });

  it('refuses ".." segments and parts with nothing usable, naming each field', () => {
    const input = {
      event: '../../etc',
      track: 'a\\..\\b',
      targetLanguage: 'de',
      filename: '../x.md',
      session: 'ok',
    };
    expect(pathProblems(input).map((p) => p.path)).toEqual(['/event', '/track', '/filename']);
    expect(() => sessionLayout('/base', input)).toThrow(SecretaryError);
    expect(
      pathProblems({
        event: '???',
        track: 't',
        targetLanguage: 'de',
        filename: null,
        session: 's',
      }),
    ).toEqual([
      { path: '/event', problem: 'has no characters usable in a file or directory name' },
    ]);
    // dots inside a name are no traversal
    expect(
      pathProblems({
        event: 'Wait... what?',
        track: 't',
        targetLanguage: 'de',
        filename: null,
        session: 's',
      }),
    ).toEqual([]);
  });
});

describe('sessionCacheKey', () => {
  const input = {
    event: 'FOSDEM 2025',
    session: 'Forked Communities: Projekt – Re-licensing',
    url: 'https://fosdem.org/2025/schedule/event/x/',
    track: 'Main-Track-Janson-7',
    target_language: 'de',
    template: 'Session',
    attachments_url: 'https://fosdem.org/s.pdf',
    video_transcript: 'Hallo Welt – ü',
  };

  it("serialises like Python's json.dumps(sort_keys=True) and hashes it (the original's key)", () => {
    const hash = createHash('sha256').update('Hallo Welt – ü').digest('hex').slice(0, 16);
    const expected =
      '{"attachments_url": "https://fosdem.org/s.pdf", "event": "FOSDEM 2025", "session": "Forked Communities: Projekt \\u2013 Re-licensing", ' +
      `"target_language": "de", "template": "Session", "track": "Main-Track-Janson-7", "url": "https://fosdem.org/2025/schedule/event/x/", "video_transcript_hash": "${hash}"}`;
    const rest: Record<string, unknown> = { ...input, video_transcript_hash: hash };
    delete rest.video_transcript;
    expect(pythonJson(rest)).toBe(expected);
    expect(sessionCacheKey(input)).toBe(createHash('sha256').update(expected).digest('hex'));
  });

  it.skipIf(!python)('equals the key computed by Python itself', () => {
    const script =
      'import json,hashlib,sys\n' +
      'k=json.loads(sys.argv[1]); t=k.pop("video_transcript")\n' +
      'k["video_transcript_hash"]=hashlib.sha256(t.encode()).hexdigest()[:16]\n' +
      'print(hashlib.sha256(json.dumps(k,sort_keys=True).encode()).hexdigest())';
    const py = execFileSync('python3', ['-c', script, JSON.stringify(input)], {
      encoding: 'utf8',
    }).trim();
    expect(sessionCacheKey(input)).toBe(py);
  });

  it('changes with the optional inputs and leaves out absent ones', () => {
    const base = { ...input, video_transcript: null, attachments_url: null };
    expect(sessionCacheKey(base)).not.toBe(sessionCacheKey(input));
    expect(sessionCacheKey({ ...base, video_url: 'https://vimeo.com/1' })).not.toBe(
      sessionCacheKey(base),
    );
    expect(sessionCacheKey({ ...base, video_url: '' })).toBe(sessionCacheKey(base));
  });
});

describe('slides, {slides} and {videoplayer}', () => {
  const pages = ['Erste Folie: Öffentliches Geld', 'Second slide'];
  const images = ['Ev/assets/Talk/preview_001.jpg', 'Ev/assets/Talk/preview_002.jpg'];

  it('enriches slides with the page text as base64 and the preview image', () => {
    const s = enrichSlides(
      normaliseSlides([{ page_num: 2, title: 'Zwei', summary: 'S2' }, { title: 'Eins' }]),
      pages,
      images,
    );
    expect(s[0]).toEqual({
      page_num: 2,
      title: 'Zwei',
      slide_text: Buffer.from('Second slide').toString('base64'),
      summary: 'S2',
      image_url: images[1],
    });
    expect(s[1]!.page_num).toBe(2);
    expect(Buffer.from(s[1]!.slide_text, 'base64').toString('utf8')).toBe('Second slide');
    const strings = normaliseSlides(['Intro', ['a', 'b']]);
    expect(strings).toEqual([
      { page_num: 1, title: 'Intro', summary: '' },
      { page_num: 2, title: 'a, b', summary: '' },
    ]);
    expect(
      enrichSlides([{ page_num: 9, title: 'x', summary: '' }], pages, images)[0]!.image_url,
    ).toBe('');
  });

  it('renders the table with Obsidian embeds at 300 px, or nothing', () => {
    const table = slidesTable(
      enrichSlides([{ page_num: 1, title: 'A|B', summary: 'line\nbreak' }], pages, images),
    );
    expect(table).toBe(
      '\n## Slides:\n|  |  |\n| --- | --- |\n| ![[Ev/assets/Talk/preview_001.jpg\\|300]] | **A\\|B** — line break |\n',
    );
    expect(slidesTable([])).toBe('');
  });

  it('plays Vimeo in an iframe, other videos in <video>, and escapes quotes', () => {
    expect(videoPlayer('https://player.vimeo.com/video/1')).toBe(
      '<iframe src="https://player.vimeo.com/video/1" width="640" height="360" frameborder="0" allowfullscreen></iframe>',
    );
    expect(videoPlayer('https://video.fosdem.org/x.webm')).toBe(
      '<video src="https://video.fosdem.org/x.webm" controls></video>',
    );
    expect(videoPlayer('https://e.org/a"onerror="x')).toBe(
      '<video src="https://e.org/a%22onerror=%22x" controls></video>',
    );
    expect(videoPlayer(null)).toBe('');
  });

  it('replaces the frontmatter slides line (with a block below it) or appends one', () => {
    const slides = enrichSlides([{ page_num: 1, title: 'T', summary: 'S' }], pages, images);
    const replaced = withFrontmatterSlides(
      '---\ntitle: "x"\nslides:\n  - a\n  - b\ntags: []\n---\n# Body',
      slides,
    );
    const fm = parseYaml(replaced.split('---\n')[1]!) as Record<string, unknown>;
    expect(fm).toEqual({ title: 'x', slides, tags: [] });
    expect(replaced.endsWith('---\n# Body')).toBe(true);
    const appended = withFrontmatterSlides('---\ntitle: "x"\n---\nBody', slides);
    expect((parseYaml(appended.split('---\n')[1]!) as Record<string, unknown>).slides).toEqual(
      slides,
    );
    expect(withFrontmatterSlides('# no frontmatter', slides)).toBe('# no frontmatter');
  });

  it('finishes the Markdown: slides everywhere, placeholders gone', () => {
    const filled = '---\nslides: ["x"]\n---\n{videoplayer}\n{{video_url}}\n{slides}\nend';
    const done = finishSessionMarkdown(
      filled,
      { slides: [{ page_num: 1, title: 'T', summary: 'S' }], title: 'x' },
      { pageTexts: pages, images, videoUrl: null },
    );
    expect(done.markdown).not.toMatch(/\{slides\}|\{videoplayer\}|\{\{video_url\}\}/);
    expect(done.markdown).toContain('![[Ev/assets/Talk/preview_001.jpg\\|300]]');
    expect(done.structured_data.slides).toEqual(done.slides);
    expect(done.structured_data.title).toBe('x');
    const none = finishSessionMarkdown(
      'a{slides}b',
      {},
      { pageTexts: [], images: [], videoUrl: 'https://vimeo.com/5' },
    );
    expect(none.markdown).toBe('ab');
    // slides of pages that do not exist (no attachments, or page 3 of 2) are dropped
    const invented = finishSessionMarkdown(
      '---\nslides: ["a"]\n---\n{slides}',
      { slides: ['a', 'b', 'c'] },
      { pageTexts: pages, images, videoUrl: null },
    );
    expect(invented.slides.map((x) => x.page_num)).toEqual([1, 2]);
    const noPages = finishSessionMarkdown(
      '---\nslides: ["a"]\n---\n{slides}',
      { slides: ['a'] },
      { pageTexts: [], images: [], videoUrl: null },
    );
    expect(noPages.markdown).toBe('---\nslides: []\n---\n');
  });

  it("builds the model's input text as the original did", () => {
    expect(templateInputText('Web', ['P1', 'P2'])).toBe(
      '# Webtext:\nWeb\n\n---\n\n# Slidesdescription:\nDescription Slide 1:\n P1 \n\nDescription Slide 2:\n P2 \n\n',
    );
  });
});

describe('eventSummaryInput', () => {
  const entry = (track: string, session: string, summary: string) => ({
    track,
    session,
    markdown_file: `Ev/de/${track}/${session}.md`,
    structured_data: { title: `Title ${session}`, topic: 'Energie', summary },
    markdown_content: '---\ntitle: x\n---\nbody',
  });

  it('groups sessions by track with links and excerpts', () => {
    const r = eventSummaryInput('Ev', 'de', [entry('B', 's2', 'two'), entry('A', 's1', 'one')]);
    expect(r.text.indexOf('## Track: A')).toBeLessThan(r.text.indexOf('## Track: B'));
    expect(r.text).toContain(
      '### Title s1\nSession: s1\nObsidian-Link: [[Ev/de/A/s1]]\nThema: Energie\none\n',
    );
    expect(r.context).toMatchObject({
      event: 'Ev',
      track_count: 2,
      session_count: 2,
      tracks: ['A', 'B'],
    });
    expect(r.included).toBe(2);
  });

  it('stays within its bound for a large event', () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      entry(`T${i % 7}`, `s${i}`, 'x'.repeat(5000)),
    );
    const r = eventSummaryInput('Ev', 'de', many);
    expect(r.text.length).toBeLessThanOrEqual(EVENT_TEXT_MAX);
    expect(r.included).toBeLessThan(400);
    expect(r.included).toBeGreaterThan(50);
  });
});
