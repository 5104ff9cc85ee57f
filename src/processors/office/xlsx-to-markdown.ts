/**
 * XLSX → Markdown: one `## <sheet name>` section per worksheet with its used range as a GFM
 * table (first row as header, trailing empty rows and columns dropped). Cells come from
 * read-excel-file (shared strings, numbers, booleans, dates; formulas as their cached value).
 * Sheets with more than `maxRows` rows below the header are cut, with a note saying how many
 * rows were left out.
 */
import readXlsxFile from 'read-excel-file/node';
import { escapeMarkdownText, markdownTable } from './markdown-table.js';
import type { OfficeTextContent } from './types.js';

type Cell = string | number | boolean | Date | null | undefined;

const cellString = (v: Cell): string => {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('.000Z', 'Z');
  }
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(15)));
  return String(v);
};

/** Drops trailing empty cells of each row, then trailing empty rows. */
const usedRange = (rows: Cell[][]): string[][] => {
  const out = rows.map((r) => {
    const s = r.map(cellString);
    let end = s.length;
    while (end > 0 && s[end - 1] === '') end--;
    return s.slice(0, end);
  });
  let end = out.length;
  while (end > 0 && out[end - 1]!.length === 0) end--;
  return out.slice(0, end);
};

export interface XlsxMarkdown {
  markdown: string;
  text_contents: OfficeTextContent[];
  sheets: number;
  truncated_rows: number;
  warnings: string[];
}

export const xlsxToMarkdown = async (bytes: Uint8Array, opts: { maxRows: number }): Promise<XlsxMarkdown> => {
  const sheets = await readXlsxFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const sections: OfficeTextContent[] = [];
  const warnings: string[] = [];
  let truncated = 0;
  sheets.forEach((sheet, i) => {
    const rows = usedRange(sheet.data as unknown as Cell[][]);
    const shown = rows.slice(0, opts.maxRows + 1);
    const left = rows.length - shown.length;
    truncated += left;
    const parts = [`## ${escapeMarkdownText(sheet.sheet)}`];
    parts.push(shown.length ? markdownTable(shown) : '*(leeres Tabellenblatt)*');
    if (left > 0) {
      parts.push(`*… ${left} weitere Zeilen nicht dargestellt (Grenze: ${opts.maxRows} Zeilen je Blatt)*`);
      warnings.push(`sheet ${sheet.sheet}: ${left} rows beyond ${opts.maxRows} left out`);
    }
    sections.push({ page: i + 1, title: sheet.sheet, content: parts.join('\n\n') });
  });
  return {
    markdown: sections.map((s) => s.content).join('\n\n'),
    text_contents: sections,
    sheets: sheets.length,
    truncated_rows: truncated,
    warnings,
  };
};
