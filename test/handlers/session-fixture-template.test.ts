/**
 * The users' own `Session_de.md` and `Event_eco_social_de.md` (/work/shared/fixtures/templates,
 * read at test time, never copied) through the whole session pipeline: the note's frontmatter
 * is valid YAML with `date: {{day|…}}`, `speaker: {{speakers|…}}` and `cacheId: {{cache_key}}`
 * filled (the original wrote `""` for each), `{videoplayer}` and `{slides}` substituted.
 * Skipped with a reason when the folder is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startTransformerHarness, type TransformerHarness } from './transformer-harness.js';
import { sessionPage, startSessionSite, type SessionSite } from './session-site.js';

const DIR = process.env.SECRETARY_FIXTURE_TEMPLATES ?? '/work/shared/fixtures/templates';
const present = existsSync(join(DIR, 'Session_de.md'));
if (!present)
  console.warn(
    `session fixture template test skipped: ${join(DIR, 'Session_de.md')} does not exist`,
  );

describe.skipIf(!present)(`the users' Session_de.md (${DIR})`, () => {
  let h: TransformerHarness;
  let site: SessionSite;

  beforeAll(async () => {
    site = await startSessionSite();
    site.set('/talk/7', {
      type: 'text/html; charset=utf-8',
      body: sessionPage('Repairable Phones', 'Kim Doe'),
    });
    h = await startTransformerHarness({ processors: { templates: { dir: DIR } } });
  });
  afterAll(async () => {
    await h.close();
    await site.close();
  });

  it('fills the frontmatter and substitutes the player and the slides', async () => {
    const job = await h.enqueue({
      job_type: 'session',
      parameters: {
        event: 'FOSDEM 2025',
        session: 'Repairable Phones',
        url: `${site.base}/talk/7`,
        track: 'Open-Hardware',
        day: '2025-02-01',
        speakers: ['Kim Doe'],
        video_url: 'https://video.fosdem.org/2025/phones.webm',
        video_transcript: 'Phones should be repairable.',
        attachments_url: `${site.base}/slides.pdf`,
      },
    });
    const j = await h.settled(job.job_id, 90_000);
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = j.results as Record<string, any>;
    expect(r.template).toBe('Session_de');
    const md = readFileSync(
      join(
        h.config.paths.home,
        'sessions',
        'FOSDEM 2025',
        'de',
        'Open-Hardware',
        'Repairable Phones.md',
      ),
      'utf8',
    );
    const fm = parseYaml(/^---\n([\s\S]*?)\n---/.exec(md)![1]!) as Record<string, unknown>;
    expect(fm.date).toMatch(/^day: /);
    expect(fm.speaker).toMatch(/^speakers: /);
    expect(fm.cacheId).toBe(r.cache_key);
    expect(fm.track).toBe('Open-Hardware');
    expect(md).toContain(
      '<video src="https://video.fosdem.org/2025/phones.webm" controls></video>',
    );
    expect(md).not.toMatch(/\{slides\}|\{videoplayer\}/);
    expect(r.attachments).toHaveLength(2);

    const ev = await h.settled(
      (await h.enqueue({ job_type: 'event_summary', parameters: { event: 'FOSDEM 2025' } })).job_id,
      60_000,
    );
    expect(ev.status, JSON.stringify(ev.error)).toBe('completed');
    expect((ev.results as Record<string, any>).template).toBe('Event_eco_social_de');
  });
});
