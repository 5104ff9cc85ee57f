/**
 * The office processor on documents built in the test (OOXML zips assembled with fflate in
 * test/helpers/make-office.ts): DOCX, XLSX and PPTX → Markdown with headings, lists, tables,
 * images and notes, on the real CPU pool; the work dir, archive and cache-safe errors.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractOffice } from '../../src/processors/office/index.js';
import { openPackage } from '../../src/processors/office/ooxml-package.js';
import { parseXml, textOf } from '../../src/processors/office/xml.js';
import { closeCpuPool } from '../../src/worker/cpu-pool.js';
import { docx, makeDocx, makePptx, makeXlsx, solidPng } from '../helpers/make-office.js';

let dir: string;
let png: Uint8Array;
const NO_SOFFICE = { path: '/nonexistent/soffice', timeoutMs: 10_000, maxConcurrent: 1 };

const write = async (name: string, bytes: Uint8Array): Promise<string> => {
  const p = path.join(dir, name);
  await writeFile(p, bytes);
  return p;
};

const run = async (name: string, bytes: Uint8Array, over: Partial<Parameters<typeof extractOffice>[0]> = {}) => {
  const filePath = await write(name, bytes);
  const workDir = path.join(dir, 'work', name);
  const r = await extractOffice({ filePath, workDir, originalName: name, includeImages: true, includePreviews: false, soffice: NO_SOFFICE, ...over });
  return { r, workDir, md: readFileSync(path.join(workDir, r.markdown_file), 'utf8') };
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'secretary-office-'));
  png = await solidPng(40, 20);
});

afterAll(async () => {
  await closeCpuPool();
  await rm(dir, { recursive: true, force: true });
});

describe('DOCX → Markdown', () => {
  it('keeps headings, nested bullets, numbered lists, tables, bold text and images', async () => {
    const bytes = makeDocx(
      [
        docx.heading(1, 'Jahresbericht Südtirol'),
        docx.para('Einleitung mit Umlauten: Äpfel, Öl, Straße.'),
        docx.para('Wichtig', { bold: true }),
        docx.item('Erster Punkt', 1),
        docx.item('Unterpunkt', 1, 1),
        docx.item('Zweiter Punkt', 1),
        docx.heading(2, 'Schritte'),
        docx.item('Schritt eins', 2),
        docx.item('Schritt zwei', 2),
        docx.heading(3, 'Zahlen'),
        docx.table([
          ['Region', 'Wert | Anteil'],
          ['Bozen', '42'],
          ['Meran', '17'],
        ]),
        docx.image('rIdImg1', 'Rotes Rechteck', 1),
      ],
      { images: [{ name: 'image1.png', bytes: png }], title: 'Bericht 2026' },
    );
    const { r, workDir, md } = await run('bericht.docx', bytes);
    expect(r.kind).toBe('docx');
    expect(r.title).toBe('Bericht 2026');
    expect(md).toContain('# Jahresbericht Südtirol');
    expect(md).toContain('## Schritte');
    expect(md).toContain('### Zahlen');
    expect(md).toContain('**Wichtig**');
    expect(md).toMatch(/^- Erster Punkt\n {2}- Unterpunkt\n- Zweiter Punkt$/m);
    expect(md).toMatch(/^1\. Schritt eins\n2\. Schritt zwei$/m);
    expect(md).toContain('| Region | Wert \\| Anteil |\n| --- | --- |\n| Bozen | 42 |\n| Meran | 17 |');
    expect(md).toContain('![Rotes Rechteck](images/image_001.png)');
    expect(r.images).toEqual(['images/image_001.png']);
    expect(readFileSync(path.join(workDir, 'images/image_001.png'))).toEqual(Buffer.from(png));
    expect(r.text_contents).toEqual([{ page: 1, content: md, title: 'Bericht 2026' }]);
    // the archive holds the Markdown and the images
    const zip = unzipSync(readFileSync(path.join(workDir, r.archive)));
    expect(Object.keys(zip).sort()).toEqual(['images/image_001.png', 'output.md']);
    expect(Buffer.from(zip['output.md']!).toString('utf8')).toBe(md);
    // nothing of the temp dir is left next to the work dir
    expect(readdirSync(path.dirname(workDir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('without includeImages keeps only the alt text and writes no image files', async () => {
    const bytes = makeDocx([docx.para('Text'), docx.image('rIdImg1', 'Logo', 1)], { images: [{ name: 'image1.png', bytes: png }] });
    const { r, workDir, md } = await run('noimg.docx', bytes, { includeImages: false });
    expect(md).toContain('*[Bild: Logo]*');
    expect(r.images).toEqual([]);
    expect(existsSync(path.join(workDir, 'images'))).toBe(false);
  });
});

describe('XLSX → Markdown', () => {
  it('renders one section per sheet with its used range as a table', async () => {
    const bytes = makeXlsx([
      { name: 'Umsatz', rows: [['Monat', 'Betrag', 'Notiz'], ['Jänner', 1200.5, 'a|b'], ['Februar', 900, null], [null, null, null]] },
      { name: 'Leer', rows: [] },
    ]);
    const { r, md } = await run('umsatz.xlsx', bytes);
    expect(r.kind).toBe('xlsx');
    expect(r.unit_count).toBe(2);
    expect(md).toContain('## Umsatz\n\n| Monat | Betrag | Notiz |\n| --- | --- | --- |\n| Jänner | 1200.5 | a\\|b |\n| Februar | 900 |  |');
    expect(md).toContain('## Leer\n\n*(leeres Tabellenblatt)*');
    expect(r.text_contents.map((t) => [t.page, t.title])).toEqual([
      [1, 'Umsatz'],
      [2, 'Leer'],
    ]);
  });

  it('cuts sheets after maxSheetRows data rows and says how many were left out', async () => {
    const rows = [['n'], ...Array.from({ length: 30 }, (_, i) => [i + 1])];
    const { r, md } = await run('lang.xlsx', makeXlsx([{ name: 'Lang', rows }]), { maxSheetRows: 10 });
    expect(r.truncated_rows).toBe(20);
    expect(md).toContain('| 10 |');
    expect(md).not.toContain('| 11 |');
    expect(md).toContain('20 weitere Zeilen nicht dargestellt');
  });
});

describe('PPTX → Markdown', () => {
  it('walks slides in order: titles, bullet levels, tables, pictures and speaker notes', async () => {
    const bytes = makePptx([
      {
        title: 'Projektstart',
        bullets: [{ text: 'Ziele' }, { text: 'Kosten senken', level: 1 }, { text: 'Zeitplan' }],
        image: { name: 'image1.png', bytes: png, descr: 'Diagramm Rot' },
        notes: 'Hier kurz die Ziele erklären.',
      },
      { title: 'Zahlen', table: [['Quartal', 'Umsatz'], ['Q1', '10'], ['Q2', '12']] },
    ]);
    const { r, workDir, md } = await run('vortrag.pptx', bytes);
    expect(r.kind).toBe('pptx');
    expect(r.unit_count).toBe(2);
    expect(md.startsWith('--- Seite 1 ---\n\n## Projektstart')).toBe(true);
    expect(md).toMatch(/^- Ziele\n {3}- Kosten senken\n- Zeitplan$/m);
    expect(md).toContain('![Diagramm Rot](images/slide1_slide1_image1.png)');
    expect(md).toContain('**Sprechernotizen:**\n\n> Hier kurz die Ziele erklären.');
    expect(md).toContain('--- Seite 2 ---\n\n## Zahlen\n\n| Quartal | Umsatz |\n| --- | --- |\n| Q1 | 10 |\n| Q2 | 12 |');
    expect(md.indexOf('Projektstart')).toBeLessThan(md.indexOf('Zahlen'));
    expect(r.text_contents.map((t) => [t.page, t.title])).toEqual([
      [1, 'Projektstart'],
      [2, 'Zahlen'],
    ]);
    expect(r.images).toEqual(['images/slide1_slide1_image1.png']);
    expect(existsSync(path.join(workDir, r.images[0]!))).toBe(true);
  });
});

describe('bad input', () => {
  it('refuses a non-ZIP file and a ZIP that is no office document with UNSUPPORTED_FILE', async () => {
    await expect(run('x.docx', strToU8('plain text, not a zip'))).rejects.toMatchObject({ code: 'UNSUPPORTED_FILE' });
    await expect(run('y.docx', zipSync({ 'hello.txt': strToU8('hi') }))).rejects.toMatchObject({ code: 'UNSUPPORTED_FILE' });
  });

  it('a damaged document is CORRUPT_FILE and leaves no work dir behind', async () => {
    const good = makeDocx([docx.para('x')]);
    const broken = good.slice(0, Math.floor(good.length / 2));
    const name = 'broken.docx';
    await expect(run(name, broken)).rejects.toMatchObject({ code: expect.stringMatching(/CORRUPT_FILE|UNSUPPORTED_FILE/) });
    expect(existsSync(path.join(dir, 'work', name))).toBe(false);
  });

  it('a package that unpacks to more than the cap fails as CORRUPT_FILE (zip bomb)', async () => {
    const bytes = zipSync({ 'word/document.xml': new Uint8Array(5 * 1024 * 1024) }, { level: 9 });
    expect(bytes.length).toBeLessThan(100_000);
    expect(() => openPackage(bytes, { maxUnpackedBytes: 1024 * 1024 })).toThrow(/unpacks to more than/);
    await expect(run('bomb.docx', bytes, { maxUnpackedBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'CORRUPT_FILE' });
  });
});

describe('the XML reader', () => {
  it('decodes entities and CDATA, keeps prefixes and never expands DTD entities', () => {
    const x = parseXml(
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY boom "BOOM">]><a:r xmlns:a="urn:x" b="1 &amp; 2"><a:t>x &lt; y &#228; &#x1F600; &boom;</a:t><!-- note --><a:t><![CDATA[<raw>]]></a:t><a:br/></a:r>',
    );
    expect(x.name).toBe('a:r');
    expect(x.local).toBe('r');
    expect(x.attrs.b).toBe('1 & 2');
    expect(x.children.map((c) => (typeof c === 'string' ? c : c.local))).toEqual(['t', 't', 'br']);
    expect(textOf(x)).toBe('x < y ä 😀 &boom;<raw>');
  });
});
