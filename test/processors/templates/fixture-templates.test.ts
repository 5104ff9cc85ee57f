/**
 * The users' own templates (/work/shared/fixtures/templates, read at test time, never copied):
 * every one parses, yields its field list, and fills into a document whose frontmatter is valid
 * YAML with no placeholder of a field left. Skipped with a reason when the folder is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  fillTemplate,
  JSON_FRONTMATTER_KEYS,
  parseTemplate,
} from '../../../src/processors/templates/index.js';

const DIR = process.env.SECRETARY_FIXTURE_TEMPLATES ?? '/work/shared/fixtures/templates';
const present = existsSync(DIR);
if (!present) console.warn(`fixture templates skipped: ${DIR} does not exist`);

const load = (name: string) => parseTemplate(readFileSync(join(DIR, name), 'utf8'));

/** Field lists written out by hand from the files (frontmatter first, each field once). */
const EXPECTED: Record<string, { fields: string[]; arrays?: string[]; system?: boolean }> = {
  'Session_de.md': {
    fields: [
      'tags',
      'title',
      'subtitle',
      'intro',
      'speakers',
      'day',
      'ort',
      'topic',
      'relevance',
      'summary',
      'ecosocial',
      'attachment_links',
    ],
    system: true,
  },
  'Besprechung.md': {
    fields: [
      'tags',
      'personen',
      'date',
      'ort',
      'title',
      'summary',
      'messages',
      'nexsSteps',
      'transcript',
    ],
    system: false,
  },
  'pdfanalyse.md': {
    fields: [
      'title',
      'shortTitle',
      'slug',
      'summary',
      'teaser',
      'authors',
      'tags',
      'docType',
      'year',
      'region',
      'language',
      'topics',
      'source',
      'project',
      'chapters',
      'toc',
    ],
    arrays: ['authors', 'tags', 'topics', 'chapters', 'toc'],
    system: true,
  },
  'ExtractSessionDataFromWebsite.md': {
    fields: [
      'event',
      'session',
      'subtitle',
      'description',
      'filename',
      'track',
      'image_url',
      'speakers',
      'speakers_url',
      'speakers_image_url',
      'video_url',
      'attachments_url',
      'url',
      'day',
      'starttime',
      'endtime',
      'language',
    ],
    arrays: [],
    system: true,
  },
  'ExtractSessionListFromWebsite.md': { fields: ['track', 'title', 'url'], system: true },
  'Youtube.md': {
    fields: [
      'tags',
      'personen',
      'upload_date',
      'ort',
      'title',
      'summary',
      'messages',
      'chapters',
      'view_count',
      'like_count',
      'duration',
      'age_limit',
    ],
    system: false,
  },
  'image_classify.md': {
    fields: ['title', 'category', 'tags', 'description', 'objects', 'mood', 'quality'],
    arrays: [],
    system: true,
  },
  'person.md': { fields: ['name', 'age', 'occupation', 'summary'], system: false },
  'Session_analyze_en.md': {
    fields: [
      'title',
      'shortTitle',
      'slug',
      'summary',
      'teaser',
      'affiliations',
      'tags',
      'topics',
      'year',
      'date',
      'starttime',
      'endtime',
      'duration',
      'location',
      'slides',
      'summaryInText',
    ],
    arrays: ['affiliations', 'tags', 'topics', 'slides'],
    system: true,
  },
  'Blogeintrag.md': { fields: [], system: false },
};

describe.skipIf(!present)(`fixture templates in ${DIR}`, () => {
  const files = present
    ? readdirSync(DIR)
        .filter((f) => f.endsWith('.md'))
        .sort()
    : [];

  it('has the templates the expectations name', () => {
    for (const name of Object.keys(EXPECTED)) expect(files).toContain(name);
  });

  for (const [name, exp] of Object.entries(EXPECTED)) {
    it(`${name}: fields ${exp.fields.length}`, () => {
      const t = load(name);
      expect(t.fields.map((f) => f.name)).toEqual(exp.fields);
      if (exp.arrays)
        expect(t.fields.filter((f) => f.expectsArray).map((f) => f.name)).toEqual(exp.arrays);
      if (exp.system !== undefined) expect(t.systemPrompt !== null).toBe(exp.system);
    });
  }

  it('Session_de.md keeps differently named frontmatter keys bound to their placeholders', () => {
    const t = load('Session_de.md');
    const values = Object.fromEntries(t.fields.map((f) => [f.name, `value of ${f.name}`]));
    const doc = fillTemplate(t, {
      values,
      context: { track: 'T1', cache_key: 'k1', url: 'https://e.org' },
      text: '',
    });
    const fm = parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(doc)![1]!) as Record<string, unknown>;
    expect(fm).toMatchObject({
      speaker: 'value of speakers',
      date: 'value of day',
      place: 'value of ort',
      cacheId: 'k1',
      track: 'T1',
    });
    expect(doc).toContain('\n# value of title\n');
    expect(doc).toContain('{videoplayer}');
    expect(doc).toContain('{slides}');
  });

  it('every template fills into valid YAML frontmatter without leftover field placeholders', () => {
    for (const file of files) {
      const t = load(file);
      const values = Object.fromEntries(
        t.fields.map((f) => [
          f.name,
          f.expectsArray ? [`${f.name} "1"`, 'two: 2'] : `${f.name}: "quoted" #x\nline`,
        ]),
      );
      const doc = fillTemplate(t, { values, context: {}, text: 'input' });
      for (const f of t.fields) expect(doc, `${file} ${f.name}`).not.toContain(`{{${f.name}|`);
      const fm = /^---\n([\s\S]*?)\n---\n/.exec(doc);
      if (t.frontmatter) {
        const parsed = parseYaml(fm![1]!) as Record<string, unknown>;
        for (const e of t.frontmatter.filter((x) => x.kind === 'field')) {
          const v = values[e.name!];
          const json = JSON_FRONTMATTER_KEYS.has(e.key) || JSON_FRONTMATTER_KEYS.has(e.name!);
          const expected = typeof v === 'string' && !json ? v.replace(/\n/g, ' ') : v;
          expect(parsed[e.key], `${file} ${e.key}`).toEqual(expected);
        }
      }
    }
  });
});
