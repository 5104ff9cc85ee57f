/** Reply repair, field checks and the template library on real temp directories. */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../../src/core/errors.js';
import {
  bundledTemplatesDir,
  checkFields,
  closeNames,
  JsonReplyError,
  parseJsonReply,
  resolveTemplatesDir,
  TemplateLibrary,
  withMissingAsNull,
} from '../../../src/processors/templates/index.js';
import { tempDir } from '../../helpers/worker-fixtures.js';

describe('parseJsonReply', () => {
  const cases: Array<[string, string, Record<string, unknown>, string[]]> = [
    ['clean JSON', '{"a": 1}', { a: 1 }, []],
    ['fenced', 'Here:\n```json\n{"a": "x"}\n```\nBye', { a: 'x' }, ['code fence']],
    [
      'text around and trailing commas',
      'Sure! {"a": [1, 2,], "b": {"c": 3,},} thanks',
      { a: [1, 2], b: { c: 3 } },
      ['text around the object', 'trailing commas'],
    ],
    ['raw newline in a string', '{"a": "x\ny"}', { a: 'x\ny' }, ['control characters in strings']],
    ['bad escape', '{"path": "C:\\data\\x"}', { path: 'C:\\data\\x' }, ['invalid escapes']],
    [
      'single quotes, Python literals, unquoted keys',
      "{'a': 'it\\'s', b: True, c: None}",
      { a: "it's", b: true, c: null },
      ['single-quoted strings', 'unquoted keys', 'Python literals'],
    ],
    ['comments', '{"a": 1, // one\n "b": 2 /* two */}', { a: 1, b: 2 }, ['comments']],
    [
      'cut off in a string',
      '{"a": "done", "b": "half',
      { a: 'done', b: 'half' },
      ['closed a cut-off reply'],
    ],
    [
      'cut off after a key',
      '{"a": 1, "b": [1, 2], "c"',
      { a: 1, b: [1, 2], c: null },
      ['closed a cut-off reply'],
    ],
    ['unclosed fence', '```json\n{"a": 1}', { a: 1 }, ['code fence']],
  ];
  for (const [name, raw, value, repairs] of cases) {
    it(`repairs: ${name}`, () => {
      const r = parseJsonReply(raw);
      expect(r.value).toEqual(value);
      expect(r.repairs.sort()).toEqual([...repairs].sort());
    });
  }

  it('refuses what is no JSON object (the original filled every field with an error string instead)', () => {
    for (const raw of ['', '   ', 'I cannot help with that.', '[1, 2]', '"text"']) {
      expect(() => parseJsonReply(raw)).toThrow(JsonReplyError);
    }
  });
});

describe('field checks', () => {
  const required = { title: 'A title', tags: 'Array of tags', note: 'Note' };
  it('reports missing fields and strings where an array is asked for', () => {
    expect(checkFields({ title: 'x', tags: 'a, b' }, required)).toEqual([
      { field: 'tags', problem: 'must be a JSON array, got string' },
      { field: 'note', problem: 'missing' },
    ]);
    expect(checkFields({ title: 'x', tags: ['a'], note: null }, required)).toEqual([]);
    expect(withMissingAsNull({ title: 'x', extra: 1 }, required)).toEqual({
      title: 'x',
      extra: 1,
      tags: null,
      note: null,
    });
  });
});

describe('TemplateLibrary', () => {
  let dir: { dir: string; cleanup: () => void };
  let lib: TemplateLibrary;
  beforeEach(() => {
    dir = tempDir('secretary-templates-');
    writeFileSync(join(dir.dir, 'Session_de.md'), '# {{title|Titel}}');
    writeFileSync(join(dir.dir, 'Session_en.md'), '# {{title|Title}}');
    writeFileSync(join(dir.dir, 'Session.md'), '# {{title|Any}}');
    writeFileSync(join(dir.dir, 'Besprechung.md'), '{{summary|Zusammenfassung}}');
    writeFileSync(join(dir.dir, 'notes.txt'), 'not a template');
    lib = new TemplateLibrary(dir.dir);
  });
  afterEach(() => dir.cleanup());

  it('lists .md files and finds names case-insensitively', () => {
    expect(lib.names()).toEqual(['Besprechung', 'Session', 'Session_de', 'Session_en']);
    expect(lib.resolve('besprechung').name).toBe('Besprechung');
    expect(lib.resolve('BESPRECHUNG.md').name).toBe('Besprechung');
  });

  it('tries <Name>_<lang> first, then <Name>', () => {
    expect(lib.resolve('Session', 'de').name).toBe('Session_de');
    expect(lib.resolve('session', 'EN').name).toBe('Session_en');
    expect(lib.resolve('Session', 'de-AT').name).toBe('Session_de');
    expect(lib.resolve('Session', 'fr').name).toBe('Session');
    expect(lib.resolve('Session', 'auto').name).toBe('Session');
    expect(lib.resolve('Session_en', 'de').name).toBe('Session_en');
    expect(lib.load('Session', 'de').parsed.fields[0]!.description).toBe('Titel');
  });

  it('refuses paths with INVALID_PARAMETERS', () => {
    for (const bad of [
      '../Session',
      'a/b',
      'a\\b',
      '.hidden',
      '..',
      '',
      'x\u0000y',
      'x'.repeat(201),
    ]) {
      let err: unknown;
      try {
        lib.resolve(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(SecretaryError);
      expect((err as SecretaryError).code, bad).toBe('INVALID_PARAMETERS');
    }
  });

  it('answers TEMPLATE_NOT_FOUND with close names', () => {
    try {
      lib.resolve('Sesion', 'de');
      throw new Error('no error');
    } catch (err) {
      expect((err as SecretaryError).code).toBe('TEMPLATE_NOT_FOUND');
      expect((err as SecretaryError).details).toMatchObject({
        tried: ['Sesion_de', 'Sesion'],
        suggestions: expect.arrayContaining(['Session']),
      });
      expect((err as SecretaryError).message).toContain('close names: Session');
    }
    expect(closeNames('besprech', ['Besprechung', 'Blog', 'Session'])).toEqual(['Besprechung']);
  });

  it('caches parsed templates by mtime and picks up edits and new files', () => {
    const a = lib.load('Besprechung');
    expect(lib.load('besprechung')).toBe(a);
    const file = join(dir.dir, 'Besprechung.md');
    writeFileSync(file, '{{summary|Zusammenfassung}} {{title|Titel}}');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    const b = lib.load('Besprechung');
    expect(b).not.toBe(a);
    expect(b.parsed.fields.map((f) => f.name)).toEqual(['summary', 'title']);
    writeFileSync(join(dir.dir, 'Neu.md'), '{{x|y}}');
    utimesSync(dir.dir, later, later);
    expect(lib.load('neu').name).toBe('Neu');
  });

  it('resolves the directory: configured, else <home>/templates, else the bundled one', () => {
    const home = tempDir('secretary-home-');
    try {
      expect(resolveTemplatesDir(null, home.dir)).toBe(bundledTemplatesDir());
      mkdirSync(join(home.dir, 'templates'));
      expect(resolveTemplatesDir(null, home.dir)).toBe(join(home.dir, 'templates'));
      expect(resolveTemplatesDir('tpl', home.dir)).toBe(join(home.dir, 'tpl'));
      expect(resolveTemplatesDir('/abs/tpl', home.dir)).toBe('/abs/tpl');
    } finally {
      rmSync(home.dir, { recursive: true, force: true });
    }
  });

  it('ships example templates that parse (Meeting in de and en, DocumentSummary, WebPage)', () => {
    const bundled = new TemplateLibrary(bundledTemplatesDir());
    expect(bundled.load('Meeting', 'de').name).toBe('Meeting_de');
    expect(bundled.load('Meeting', 'en').parsed.fields.map((f) => f.name)).toEqual([
      'title',
      'date',
      'participants',
      'tags',
      'summary',
      'decisions',
      'next_steps',
    ]);
    expect(bundled.load('DocumentSummary').parsed.fields.length).toBeGreaterThan(4);
    expect(bundled.load('WebPage').parsed.variables).toContain('url');
    expect(
      bundled.load('ExtractSessionDataFromWebsite').parsed.fields.map((f) => f.name),
    ).toContain('speakers');
  });
});
