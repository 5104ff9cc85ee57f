/**
 * PPTX → Markdown by walking the slide XML: slides in presentation order, each a section
 * `--- Seite N ---` + `## <title>` (the original's page marker, so clients count and split
 * slides like PDF pages) with its shapes in document (z-) order: text boxes as paragraphs,
 * body placeholders as bullet lists with their levels (`buNone`/`buChar`/`buAutoNum`
 * override), tables as GFM tables, pictures as `images/slide<N>_<name>` links, groups
 * recursively, and the speaker notes at the end.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import path from 'node:path';
import { escapeMarkdownText, markdownTable } from './markdown-table.js';
import { relationships, type OoxmlPackage, type Relationship } from './ooxml-package.js';
import type { OfficeTextContent } from './types.js';
import { attr, child, children, descendants, parseXml, path as xpath, prefixedAttr, type XmlElement } from './xml.js';

/** Placeholders that repeat on every slide and carry no content. */
const SKIP_PLACEHOLDERS = new Set(['dt', 'ftr', 'sldNum', 'hdr', 'sldImg']);
const TITLE_PLACEHOLDERS = new Set(['title', 'ctrTitle']);

interface SlideContext {
  rels: Map<string, Relationship>;
  slideNo: number;
  pkg: OoxmlPackage;
  outDir: string;
  includeImages: boolean;
  images: string[];
  warnings: string[];
  writes: Promise<void>[];
}

const runText = (r: XmlElement, ctx: SlideContext): string => {
  const t = child(r, 't');
  const raw = t ? t.children.filter((c): c is string => typeof c === 'string').join('') : '';
  if (!raw.trim()) return raw;
  const rPr = child(r, 'rPr');
  let text = escapeMarkdownText(raw);
  const bold = attr(rPr, 'b') === '1' || attr(rPr, 'b') === 'true';
  const italic = attr(rPr, 'i') === '1' || attr(rPr, 'i') === 'true';
  const lead = /^\s*/.exec(text)![0];
  const trail = /\s*$/.exec(text)![0];
  let core = text.trim();
  if (bold) core = `**${core}**`;
  if (italic) core = `*${core}*`;
  const link = prefixedAttr(child(rPr, 'hlinkClick'), 'id');
  const url = link ? ctx.rels.get(link)?.external : null;
  if (url && /^(https?|mailto):/i.test(url)) core = `[${core}](${url.replace(/[()\s]/g, encodeURIComponent)})`;
  text = lead + core + trail;
  return text;
};

/** A paragraph's text; `a:br` becomes a newline. */
const paragraphText = (p: XmlElement, ctx: SlideContext): string =>
  p.children
    .map((c) => {
      if (typeof c === 'string') return '';
      if (c.local === 'r' || c.local === 'fld') return runText(c, ctx);
      if (c.local === 'br') return '\n';
      return '';
    })
    .join('')
    .replace(/[ \t]+\n/g, '\n')
    .trim();

type Bullet = 'none' | 'bullet' | 'number';

const bulletOf = (p: XmlElement, inherited: Bullet): Bullet => {
  const pPr = child(p, 'pPr');
  if (child(pPr, 'buNone')) return 'none';
  if (child(pPr, 'buAutoNum')) return 'number';
  if (child(pPr, 'buChar') || child(pPr, 'buBlip')) return 'bullet';
  return inherited;
};

/** Markdown of a text body: paragraphs, or list items where the paragraphs are bullets. */
const textBody = (body: XmlElement | undefined, inherited: Bullet, ctx: SlideContext): string => {
  if (!body) return '';
  const lines: string[] = [];
  let prevList = false;
  const counters: number[] = [];
  for (const p of children(body, 'p')) {
    const text = paragraphText(p, ctx);
    if (!text) continue;
    const bullet = bulletOf(p, inherited);
    if (bullet === 'none') {
      if (lines.length) lines.push('');
      lines.push(text.replace(/\n/g, '  \n'));
      prevList = false;
      counters.length = 0;
      continue;
    }
    const level = Math.min(8, Math.max(0, Number(attr(child(p, 'pPr'), 'lvl') ?? 0) || 0));
    if (!prevList && lines.length) lines.push('');
    counters.length = level + 1;
    counters[level] = (counters[level] ?? 0) + 1;
    const marker = bullet === 'number' ? `${counters[level]}.` : '-';
    lines.push(`${'   '.repeat(level)}${marker} ${text.replace(/\n/g, ' ')}`);
    prevList = true;
  }
  return lines.join('\n');
};

const placeholderType = (sp: XmlElement): string | null => {
  const ph = xpath(sp, 'nvSpPr', 'nvPr', 'ph');
  if (!ph) return null;
  return attr(ph, 'type') ?? 'body';
};

const tableMarkdown = (tbl: XmlElement, ctx: SlideContext): string =>
  markdownTable(
    children(tbl, 'tr').map((tr) =>
      children(tr, 'tc').map((tc) =>
        attr(tc, 'hMerge') === '1' || attr(tc, 'vMerge') === '1'
          ? ''
          : children(child(tc, 'txBody') ?? tc, 'p')
              .map((p) => paragraphText(p, ctx))
              .filter(Boolean)
              .join('\n'),
      ),
    ),
  );

const pictureMarkdown = (pic: XmlElement, ctx: SlideContext): string => {
  const cNvPr = xpath(pic, 'nvPicPr', 'cNvPr');
  const alt = (attr(cNvPr, 'descr') || attr(cNvPr, 'name') || 'Bild').replace(/[[\]\n]/g, ' ').trim();
  const rel = ctx.rels.get(prefixedAttr(xpath(pic, 'blipFill', 'blip'), 'embed') ?? '');
  const bytes = rel?.target ? ctx.pkg.bytes(rel.target) : undefined;
  if (!ctx.includeImages || !rel?.target || !bytes) return `*[Bild: ${alt}]*`;
  const name = `images/slide${ctx.slideNo}_${posix.basename(rel.target).replace(/[^\w.-]/g, '_')}`;
  if (!ctx.images.includes(name)) {
    ctx.images.push(name);
    const file = path.join(ctx.outDir, name);
    ctx.writes.push(mkdir(path.dirname(file), { recursive: true }).then(() => writeFile(file, bytes)));
  }
  return `![${alt}](${name})`;
};

interface SlideBlocks {
  title: string | null;
  blocks: string[];
}

const walkShapes = (tree: XmlElement, ctx: SlideContext, out: SlideBlocks): void => {
  for (const shape of children(tree)) {
    switch (shape.local) {
      case 'sp': {
        const ph = placeholderType(shape);
        if (ph && SKIP_PLACEHOLDERS.has(ph)) break;
        if (ph && TITLE_PLACEHOLDERS.has(ph) && out.title === null) {
          const title = children(child(shape, 'txBody') ?? shape, 'p')
            .map((p) => paragraphText(p, ctx).replace(/\n/g, ' '))
            .filter(Boolean)
            .join(' ');
          if (title) {
            out.title = title;
            break;
          }
        }
        const bulleted = ph === 'body' || ph === 'obj';
        const md = textBody(child(shape, 'txBody'), bulleted ? 'bullet' : 'none', ctx);
        if (md) out.blocks.push(md);
        break;
      }
      case 'graphicFrame': {
        const data = xpath(shape, 'graphic', 'graphicData');
        const tbl = child(data, 'tbl');
        if (tbl) out.blocks.push(tableMarkdown(tbl, ctx));
        else if ((attr(data, 'uri') ?? '').endsWith('/chart')) {
          out.blocks.push('*[Diagramm]*');
          ctx.warnings.push(`slide ${ctx.slideNo}: chart not converted`);
        } else if ((attr(data, 'uri') ?? '').endsWith('/diagram')) {
          out.blocks.push('*[SmartArt]*');
          ctx.warnings.push(`slide ${ctx.slideNo}: SmartArt not converted`);
        }
        break;
      }
      case 'pic':
        out.blocks.push(pictureMarkdown(shape, ctx));
        break;
      case 'grpSp':
        walkShapes(shape, ctx, out);
        break;
      case 'AlternateContent': {
        const branch = child(shape, 'Fallback') ?? child(shape, 'Choice');
        if (branch) walkShapes(branch, ctx, out);
        break;
      }
      default:
        break;
    }
  }
};

const notesText = (pkg: OoxmlPackage, part: string, ctx: SlideContext): string => {
  const xml = pkg.text(part);
  if (!xml) return '';
  const tree = xpath(parseXml(xml), 'cSld', 'spTree');
  if (!tree) return '';
  return descendants(tree, 'sp')
    .filter((sp) => placeholderType(sp) === 'body')
    .map((sp) => textBody(child(sp, 'txBody'), 'none', { ...ctx, rels: relationships(pkg, part) }))
    .filter(Boolean)
    .join('\n\n');
};

export interface PptxMarkdown {
  markdown: string;
  text_contents: OfficeTextContent[];
  images: string[];
  slides: number;
  warnings: string[];
}

/** Slide parts in presentation order. */
export const slideParts = (pkg: OoxmlPackage): string[] => {
  const pres = pkg.text('ppt/presentation.xml');
  if (!pres) return [];
  const rels = relationships(pkg, 'ppt/presentation.xml');
  return children(child(parseXml(pres), 'sldIdLst') ?? { name: '', local: '', attrs: {}, children: [] }, 'sldId')
    .map((s) => rels.get(prefixedAttr(s, 'id') ?? '')?.target)
    .filter((t): t is string => typeof t === 'string' && pkg.has(t));
};

export const pptxToMarkdown = async (pkg: OoxmlPackage, opts: { outDir: string; includeImages: boolean }): Promise<PptxMarkdown> => {
  const images: string[] = [];
  const warnings: string[] = [];
  const writes: Promise<void>[] = [];
  const sections: OfficeTextContent[] = [];
  slideParts(pkg).forEach((part, i) => {
    const slideNo = i + 1;
    const ctx: SlideContext = { rels: relationships(pkg, part), slideNo, pkg, outDir: opts.outDir, includeImages: opts.includeImages, images, warnings, writes };
    const out: SlideBlocks = { title: null, blocks: [] };
    const tree = xpath(parseXml(pkg.text(part) ?? ''), 'cSld', 'spTree');
    if (tree) walkShapes(tree, ctx, out);
    const notesRel = [...ctx.rels.values()].find((r) => r.type === 'notesSlide' && r.target);
    const notes = notesRel?.target ? notesText(pkg, notesRel.target, ctx) : '';
    const parts = [`## ${out.title ?? `Folie ${slideNo}`}`, ...out.blocks];
    if (notes) parts.push(`**Sprechernotizen:**\n\n${notes.split('\n').map((l) => (l ? `> ${l}` : '>')).join('\n')}`);
    sections.push({ page: slideNo, title: out.title, content: parts.join('\n\n') });
  });
  await Promise.all(writes);
  return {
    markdown: sections.map((s) => `--- Seite ${s.page} ---\n\n${s.content}`).join('\n\n'),
    text_contents: sections,
    images,
    slides: sections.length,
    warnings,
  };
};
