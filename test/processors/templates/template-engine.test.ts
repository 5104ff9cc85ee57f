/**
 * The template engine (pure): parsing, filling, prompts. Each fix of the original's §6 bugs has
 * a test that states what the original produced and fails on that behaviour.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  buildSystemPrompt,
  buildUserPrompt,
  fieldsResponseFormat,
  fillTemplate,
  parseTemplate,
  requiredFields,
} from '../../../src/processors/templates/index.js';

/** The frontmatter of a filled document, parsed by a real YAML parser. */
const frontmatter = (doc: string): Record<string, unknown> => {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(doc);
  if (!m) throw new Error(`no frontmatter in:\n${doc}`);
  return parseYaml(m[1]!) as Record<string, unknown>;
};
const bodyOf = (doc: string): string => doc.replace(/^---\n[\s\S]*?\n---\n/, '');

const SESSION = `---
title: {{title|A title, max 70 characters}}
speaker: {{speakers|Which speakers are mentioned? Comma separated.}}
date: {{day|The date as yyyy-mm-dd}}
place: {{ort|Which place is mentioned?}}
track: {{track}}
cacheId: {{cache_key}}
Type: Session
---
# {{title|A title}}

Source: [{{url}}]({{url}})

{videoplayer}

{{summary|A summary}}

{slides}

--- systemprompt
You are a journalist. Language: {target_language}.
`;

describe('parseTemplate', () => {
  it('splits system prompt, frontmatter and body and lists the fields frontmatter first', () => {
    const t = parseTemplate(SESSION);
    expect(t.systemPrompt).toBe('You are a journalist. Language: {target_language}.');
    expect(t.source).not.toContain('systemprompt');
    expect(t.frontmatter?.map((e) => [e.key, e.kind, e.name])).toEqual([
      ['title', 'field', 'title'],
      ['speaker', 'field', 'speakers'],
      ['date', 'field', 'day'],
      ['place', 'field', 'ort'],
      ['track', 'variable', 'track'],
      ['cacheId', 'variable', 'cache_key'],
      ['Type', 'literal', null],
    ]);
    expect(t.fields.map((f) => f.name)).toEqual(['title', 'speakers', 'day', 'ort', 'summary']);
    // the first description wins (the frontmatter one)
    expect(t.fields[0]!.description).toBe('A title, max 70 characters');
    expect(t.variables).toEqual(['track', 'cache_key', 'url']);
  });

  it('keeps a description with one level of braces whole (the original cut it at the first `}`)', () => {
    const t = parseTemplate('---\ntoc: {{toc|Optional array of { title, page, level }}}\n---\n');
    expect(t.fields).toEqual([
      {
        name: 'toc',
        description: 'Optional array of { title, page, level }',
        frontmatter: true,
        expectsArray: true,
      },
    ]);
    const doc = fillTemplate(t, {
      values: { toc: [{ title: 'A', page: 1 }] },
      context: {},
      text: '',
    });
    expect(frontmatter(doc).toc).toEqual([{ title: 'A', page: 1 }]);
    expect(doc).not.toMatch(/\]\}/);
  });

  it('finds fields in the template only, never in the input text or context values', () => {
    const t = parseTemplate('Text: {{text}}\n{{summary|A summary}}');
    const doc = fillTemplate(t, {
      values: { summary: 'S {{evil|inject}}' },
      context: {},
      text: 'Input with {{title|sneaky field}} inside',
    });
    expect(t.fields.map((f) => f.name)).toEqual(['summary']);
    expect(doc).toBe('Text: Input with {{title|sneaky field}} inside\nS {{evil|inject}}');
  });

  it('marks array fields only where the description asks for an array', () => {
    const t = parseTemplate(
      '{{a|Array von Autoren}} {{b|as a JSON array}} {{c|Kommagetrennt ausgeben}} {{d|komma-separierte Liste}}',
    );
    expect(t.fields.map((f) => [f.name, f.expectsArray])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
      ['d', false],
    ]);
  });

  it('handles templates without frontmatter, CRLF line endings and a BOM', () => {
    const t = parseTemplate('\uFEFF# {{title|T}}\r\n{{body|B}}\r\n');
    expect(t.frontmatter).toBeNull();
    expect(t.fields.map((f) => f.name)).toEqual(['title', 'body']);
    expect(fillTemplate(t, { values: { title: 'X', body: 'Y' }, context: {}, text: '' })).toBe(
      '# X\nY\n',
    );
  });
});

describe('fillTemplate', () => {
  const values = {
    title: 'My "Title" \\ here',
    speakers: 'Ada Lovelace, Alan Turing',
    day: '2024-11-08',
    ort: 'Bolzano',
    summary: 'Line one\nLine two',
  };
  const context = { track: 'Main Stage', cache_key: 'abc123', url: 'https://example.org/s/1' };

  it('fills frontmatter keys whose placeholder name differs (original: "" for speaker, date, place, cacheId)', () => {
    const fm = frontmatter(fillTemplate(parseTemplate(SESSION), { values, context, text: '' }));
    expect(fm.speaker).toBe('Ada Lovelace, Alan Turing');
    expect(fm.date).toBe('2024-11-08');
    expect(fm.place).toBe('Bolzano');
    expect(fm.cacheId).toBe('abc123');
    expect(fm.track).toBe('Main Stage');
  });

  it('keeps literal frontmatter values (original: `Type: ""`)', () => {
    const doc = fillTemplate(parseTemplate(SESSION), { values, context, text: '' });
    expect(frontmatter(doc).Type).toBe('Session');
    expect(doc).toContain('\nType: Session\n');
  });

  it('writes a body placeholder of a frontmatter field unquoted (original: `# "My Title"`)', () => {
    const doc = fillTemplate(parseTemplate(SESSION), { values, context, text: '' });
    expect(bodyOf(doc)).toMatch(/^# My "Title" \\ here\n/);
    expect(bodyOf(doc)).not.toContain('# "');
    expect(bodyOf(doc)).toContain('Line one\nLine two');
  });

  it('quotes frontmatter strings so that YAML reads them back exactly (newlines become spaces)', () => {
    const fm = frontmatter(fillTemplate(parseTemplate(SESSION), { values, context, text: '' }));
    expect(fm.title).toBe('My "Title" \\ here');
    const t = parseTemplate('---\nnote: {{note|N}}\nyear: {{year|Y}}\n---\n');
    const doc = fillTemplate(t, {
      values: { note: 'a\nb: c #d', year: 2024 },
      context: {},
      text: '',
    });
    expect(frontmatter(doc)).toEqual({ note: 'a b: c #d', year: '2024' });
  });

  it('writes the original JSON keys and any array or object as JSON', () => {
    const t = parseTemplate(
      '---\ntags: {{tags|Tags}}\nauthors: {{authors|Array of authors}}\nspeakers: {{speakers}}\n---\n',
    );
    const doc = fillTemplate(t, {
      values: { tags: 'a, b', authors: ['X, Y', 'Z'] },
      context: { speakers: ['Ada'] },
      text: '',
    });
    expect(doc).toContain('tags: "a, b"\nauthors: ["X, Y","Z"]\nspeakers: ["Ada"]\n');
    expect(frontmatter(doc)).toEqual({ tags: 'a, b', authors: ['X, Y', 'Z'], speakers: ['Ada'] });
  });

  it('fills context variables in body and frontmatter, keeps unknown ones and the session markers', () => {
    const t = parseTemplate(
      '---\nvideo: https://youtu.be/{{video_id}}\nempty:\n---\n{{text}} {{url}} {{unknown}} {videoplayer} {slides} {{obj}}',
    );
    const doc = fillTemplate(t, {
      values: {},
      context: { video_id: 'xyz', url: 'U', obj: { a: 1 } },
      text: 'T',
    });
    expect(frontmatter(doc)).toEqual({ video: 'https://youtu.be/xyz', empty: '' });
    expect(bodyOf(doc)).toBe('T U {{unknown}} {videoplayer} {slides} {"a":1}');
  });

  it('keeps YAML blocks under a literal key', () => {
    const t = parseTemplate('---\naliases:\n  - one\n  - two\ntitle: {{title|T}}\n---\nB');
    const doc = fillTemplate(t, { values: { title: 'X' }, context: {}, text: '' });
    expect(frontmatter(doc)).toEqual({ aliases: ['one', 'two'], title: 'X' });
  });

  it('uses the context for a field the model left empty', () => {
    const t = parseTemplate('---\ntrack: {{track|Track name}}\n---\n');
    const doc = fillTemplate(t, { values: { track: null }, context: { track: 'Ctx' }, text: '' });
    expect(frontmatter(doc).track).toBe('Ctx');
  });
});

describe('prompts', () => {
  const t = parseTemplate(SESSION);

  it('keeps the original shape and replaces {target_language} in the system prompt', () => {
    expect(buildSystemPrompt(t, 'it')).toBe(
      'You are a journalist. Language: it.\n\nIMPORTANT: Your response must be a valid JSON object where each key corresponds to a template variable.',
    );
    expect(buildSystemPrompt(parseTemplate('{{a|b}}'), 'fr')).toContain('ISO 639-1 code:fr.');
    const prompt = buildUserPrompt({
      text: 'THE TEXT',
      context: { track: 'T' },
      required: requiredFields(t, null),
      targetLanguage: 'de',
    });
    expect(prompt).toMatch(
      /^Analyze the following text and extract the information as a JSON object:\n\nTEXT:\nTHE TEXT\n\nCONTEXT:\n\{\n {2}"track": "T"\n\}\n\nREQUIRED FIELDS:\n\{/,
    );
    expect(prompt).toContain('INSTRUCTIONS:\n1. Extract all required information from the text\n');
    expect(prompt).toContain('3. Provide all values in language: de');
    const fields = JSON.parse(/REQUIRED FIELDS:\n(\{[\s\S]*?\n\})/.exec(prompt)![1]!) as Record<
      string,
      string
    >;
    expect(Object.keys(fields)).toEqual(['title', 'speakers', 'day', 'ort', 'summary']);
  });

  it('asks for additional_field_descriptions too (the original dropped them in template mode)', () => {
    const required = requiredFields(t, {
      language: 'ISO code of the language',
      keywords: 'Array of keywords',
    });
    expect(required).toMatchObject({
      language: 'ISO code of the language',
      keywords: 'Array of keywords',
    });
    const prompt = buildUserPrompt({ text: 'x', context: {}, required, targetLanguage: 'en' });
    expect(prompt).toContain('"language": "ISO code of the language"');
    expect(prompt).toContain('No additional context.');
    expect(prompt).toContain('6. These fields must be JSON arrays: keywords');
  });

  it('builds a JSON schema from the fields, or plain json_object', () => {
    const required = requiredFields(parseTemplate('{{a|Text}} {{b|Array of items}}'), null);
    expect(fieldsResponseFormat(required, 'json_schema')).toEqual({
      type: 'json_schema',
      name: 'template_fields',
      schema: {
        type: 'object',
        properties: {
          a: { description: 'Text' },
          b: { type: 'array', description: 'Array of items' },
        },
        required: ['a', 'b'],
        additionalProperties: false,
      },
      strict: false,
    });
    expect(fieldsResponseFormat(required, 'json_object')).toEqual({ type: 'json_object' });
  });
});
