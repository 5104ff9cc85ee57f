/**
 * URL mode (a real page server → clean Markdown for the model), selector extraction for list
 * pages, and the template step of `pdf` jobs — through the real store, worker and gateway.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/job.js';
import { textPdf } from '../processors/helpers/make-docs.js';
import { ARTICLE, LIST_PAGE } from '../processors/helpers/web-pages.js';
import {
  startPageServer,
  startScriptedModel,
  startTransformerHarness,
  writeTemplate,
  type TransformerHarness,
} from './transformer-harness.js';

let h: TransformerHarness;
let pages: Awaited<ReturnType<typeof startPageServer>>;
let scripted: Awaited<ReturnType<typeof startScriptedModel>>;
const results = (j: Job) => j.results as Record<string, any>;

beforeAll(async () => {
  scripted = await startScriptedModel(
    '```json\n{"title": "a.title", "link": "a.title@href", "speaker": ".speaker", "room": ""}\n```',
  );
  h = await startTransformerHarness({}, { scripted: { base_url: scripted.base } });
  writeTemplate(
    h.templatesDir,
    'Page',
    '---\ntitle: {{title|Title of the page}}\nsource: {{url}}\n---\n{{text}}',
  );
  writeTemplate(
    h.templatesDir,
    'Talks',
    '---\ntitle: {{title|Talk title}}\nlink: {{link|Link to the talk}}\nspeaker: {{speaker|Speaker}}\n---\n',
  );
  pages = await startPageServer({ '/article': ARTICLE, '/program': LIST_PAGE });
});
afterAll(async () => {
  await pages.close();
  await scripted.close();
  await h.close();
});

const run = async (job_type: string, parameters: Record<string, unknown>) =>
  h.settled(
    (await h.enqueue({ job_type, parameters: { use_cache: false, ...parameters } })).job_id,
    60_000,
  );

describe('URL mode', () => {
  it('gives the model clean Markdown of the page, not raw HTML', async () => {
    const j = await run('transformer', { url: `${pages.base}/article`, template: 'Page' });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = results(j);
    // the template's {{text}} shows exactly the text the model got
    expect(r.text).toContain(
      `url: ${pages.base}/article\ntitle: Open Hardware | Conf\nbyline: Jane Doe`,
    );
    expect(r.text).toContain(`[the talk page](${pages.base}/talks/42)`);
    expect(r.text).not.toMatch(/<nav>|<script|tracking/);
    expect(r.text).toContain(`source: "${pages.base}/article"`);
    expect(r.page).toMatchObject({ url: `${pages.base}/article`, title: 'Open Hardware | Conf' });
  });

  it('a 404 page fails the job with URL_NOT_FOUND', async () => {
    const j = await run('transformer', { url: `${pages.base}/missing`, template: 'Page' });
    expect(j.error?.code).toBe('URL_NOT_FOUND');
  });
});

describe('selector extraction (container_selector)', () => {
  it('derives selectors in one call and scrapes every container by rule', async () => {
    const before = scripted.calls;
    const j = await run('transformer', {
      url: `${pages.base}/program`,
      template: 'Talks',
      container_selector: 'li.single-element',
      provider: 'scripted',
      additional_field_descriptions: { room: 'Room of the talk' },
    });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    expect(scripted.calls - before).toBe(1);
    const r = results(j);
    expect(r.format).toBe('json');
    expect(r.structured_data.selectors).toEqual({
      title: 'a.title',
      link: 'a.title@href',
      speaker: '.speaker',
      room: '',
    });
    expect(r.structured_data.item_count).toBe(3);
    expect(r.structured_data.items[1]).toEqual({
      title: 'Talk 2',
      link: `${pages.base}/talk/2`,
      speaker: 'Speaker 2',
      room: null,
    });
    expect(JSON.parse(r.text)).toEqual(r.structured_data.items);
    expect(r.warnings).toEqual(['room: no selector']);
    expect(j.llm_info?.requests[0]).toMatchObject({
      purpose: 'selector_extraction',
      provider: 'scripted',
    });
  });

  it('runs against the fake too (its selectors are no CSS: nulls and warnings, no failure)', async () => {
    const j = await run('transformer', {
      url: `${pages.base}/program`,
      template: 'Talks',
      container_selector: 'li.single-element',
    });
    expect(j.status).toBe('completed');
    expect(h.fake.requestsOf('openai.chat').at(-1)!.summary.response_format).toBe('json_object');
    expect(results(j).structured_data).toMatchObject({
      item_count: expect.any(Number),
      selectors: { title: expect.any(String) },
    });
  });

  it('a selector that matches nothing fails with SELECTOR_NO_MATCH; bad CSS is refused at enqueue', async () => {
    const j = await run('transformer', {
      url: `${pages.base}/program`,
      template: 'Talks',
      container_selector: 'div.none',
    });
    expect(j.error?.code).toBe('SELECTOR_NO_MATCH');
    expect(
      h.registry.validate('transformer', {
        url: `${pages.base}/program`,
        template: 'Talks',
        container_selector: 'li[[',
      }),
    ).toEqual([
      {
        path: '/parameters/container_selector',
        problem: expect.stringMatching(/not a valid CSS selector/),
      },
    ]);
  });
});

describe('template step of pdf jobs', () => {
  it('transforms the extracted text, keeps extracted_text and extends the cache key', async () => {
    const file = join(h.config.paths.cache_dir, 'uploads', 'talk.pdf');
    writeFileSync(
      file,
      await textPdf([['Ada Lovelace über analytische Maschinen.'], ['Zweite Seite.']]),
    );
    writeTemplate(
      h.templatesDir,
      'Summary',
      '---\ntitle: {{title|Titel}}\n---\n{{summary|Zusammenfassung}}',
    );
    const plain = await run('pdf', { upload_path: file, extraction_method: 'native' });
    const withTemplate = await run('pdf', {
      upload_path: file,
      extraction_method: 'native',
      template: 'Summary',
      context: { a: 1 },
    });
    expect(withTemplate.status, JSON.stringify(withTemplate.error)).toBe('completed');
    const r = results(withTemplate);
    expect(r.extracted_text).toBe(results(plain).extracted_text);
    expect(r.template_result).toMatchObject({
      template: 'Summary',
      language: 'de',
      fields: ['title', 'summary'],
    });
    expect(r.template_result.structured_data.title).toMatch(/^title: .*Ada Lovelace/);
    expect(r.transformed_text).toBe(r.template_result.text);
    expect(r.cache_key).toMatch(
      new RegExp(`^${results(plain).cache_key}_template_[0-9a-f]{32}_context_[0-9a-f]{32}$`),
    );
    expect(r.structured_data.process.cache_key).toBe(r.cache_key);
    expect(withTemplate.llm_info?.requests[0]?.purpose).toBe('template_transform');
    const data = h.registry.get('pdf')!.callbackData!(withTemplate, (p) => p);
    expect(data).toMatchObject({
      extracted_text: r.extracted_text,
      transformed_text: r.transformed_text,
    });
    expect(h.registry.get('pdf')!.callbackData!(plain, (p) => p)).not.toHaveProperty(
      'template_result',
    );
  });

  it('an unknown template fails the pdf job with TEMPLATE_NOT_FOUND', async () => {
    const file = join(h.config.paths.cache_dir, 'uploads', 'x.pdf');
    writeFileSync(file, await textPdf([['Text.']]));
    const j = await run('pdf', { upload_path: file, template: 'Nope' });
    expect(j.error?.code).toBe('TEMPLATE_NOT_FOUND');
  });
});

describe('template step of imageocr jobs', () => {
  it('adds template_result and keeps extracted_text', async () => {
    const file = join(h.config.paths.cache_dir, 'uploads', 'blank.png');
    writeFileSync(
      file,
      await sharp({ create: { width: 300, height: 120, channels: 3, background: '#ffffff' } })
        .png()
        .toBuffer(),
    );
    writeTemplate(h.templatesDir, 'ImageNote', '# {{title|Titel}}\n\nOCR: {{text}}');
    const j = await run('imageocr', { upload_path: file, template: 'imagenote' });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = results(j);
    expect(r.template_result).toMatchObject({ template: 'ImageNote', fields: ['title'] });
    expect(r.transformed_text).toBe(
      `# ${r.template_result.structured_data.title}\n\nOCR: ${r.extracted_text}`,
    );
    expect(h.registry.get('imageocr')!.callbackData!(j, (p) => p)).toMatchObject({
      extracted_text: r.extracted_text,
      transformed_text: r.transformed_text,
    });
  });
});
