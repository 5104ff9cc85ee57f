/**
 * HTML (as mammoth writes it for a DOCX) → Markdown with turndown: ATX headings, `-` bullets
 * and `1.` numbers with one space and nested lists indented to the item's content column,
 * GFM strikethrough, and tables as GFM pipe tables — always, also without a header row
 * (turndown-plugin-gfm keeps such tables as raw HTML) and with paragraphs inside cells.
 */
import TurndownService from 'turndown';
import { strikethrough } from 'turndown-plugin-gfm';
import { markdownTable } from './markdown-table.js';

type Node = TurndownService.Node;

/** The part of the DOM (turndown's domino) the rules read; the project has no DOM lib types. */
interface DomEl {
  nodeName: string;
  children: ArrayLike<DomEl>;
  innerHTML: string;
  parentNode: DomEl | null;
  nextSibling: unknown;
  getAttribute(name: string): string | null;
}

const el = (n: Node): DomEl => n as unknown as DomEl;

const rowsOf = (table: DomEl): DomEl[] => {
  const out: DomEl[] = [];
  const walk = (e: DomEl): void => {
    for (const c of Array.from(e.children)) {
      if (c.nodeName === 'TR') out.push(c);
      else if (c.nodeName === 'THEAD' || c.nodeName === 'TBODY' || c.nodeName === 'TFOOT') walk(c);
    }
  };
  walk(table);
  return out;
};

export const createTurndown = (): TurndownService => {
  const td = new TurndownService({
    headingStyle: 'atx',
    bulletListMarker: '-',
    codeBlockStyle: 'fenced',
    emDelimiter: '*',
    strongDelimiter: '**',
  });
  td.use(strikethrough);
  // a cell's content is converted on its own, then flattened onto one table line
  const cells = new TurndownService({ headingStyle: 'atx', bulletListMarker: '-', emDelimiter: '*' });
  cells.use(strikethrough);
  td.addRule('table', {
    filter: 'table',
    replacement: (_content: string, node: Node) => {
      const rows = rowsOf(el(node)).map((tr) =>
        Array.from(tr.children)
          .filter((c) => c.nodeName === 'TD' || c.nodeName === 'TH')
          .map((c) => cells.turndown(c.innerHTML)),
      );
      return rows.length ? `\n\n${markdownTable(rows)}\n\n` : '';
    },
  });
  td.addRule('listItem', {
    filter: 'li',
    replacement: (content: string, node: Node, options: TurndownService.Options) => {
      const parent = el(node).parentNode;
      let prefix = `${options.bulletListMarker ?? '-'} `;
      if (parent?.nodeName === 'OL') {
        const start = Number(parent.getAttribute('start') ?? '1') || 1;
        prefix = `${start + Array.prototype.indexOf.call(parent.children, el(node))}. `;
      }
      const body = content
        .replace(/^\n+/, '')
        .replace(/\n+$/, '\n')
        .replace(/\n(?!$)/gm, `\n${' '.repeat(prefix.length)}`);
      return prefix + body + (el(node).nextSibling && !body.endsWith('\n') ? '\n' : '');
    },
  });
  td.addRule('imageWithoutSource', {
    filter: (node: Node) => node.nodeName === 'IMG' && !el(node).getAttribute('src'),
    replacement: (_c: string, node: Node) => {
      const alt = el(node).getAttribute('alt')?.trim();
      return alt ? `*[Bild: ${alt}]*` : '';
    },
  });
  return td;
};

/** Tidies turndown's output: no trailing blanks, at most one empty line in a row. */
export const tidyMarkdown = (md: string): string =>
  md
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
