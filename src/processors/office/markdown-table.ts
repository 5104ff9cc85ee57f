/** GitHub-flavoured Markdown tables and inline escaping shared by the office converters. */

/** One cell's text for a Markdown table: pipes escaped, line breaks as `<br>`, trimmed. */
export const cellText = (s: string): string =>
  s
    .replace(/\r\n?/g, '\n')
    .trim()
    .replace(/\|/g, '\\|')
    .replace(/\n+/g, '<br>');

/**
 * A GFM table; the first row is the header (GFM needs one). Short rows are padded, so every
 * row has as many cells as the widest one. An empty list gives an empty string.
 */
export const markdownTable = (rows: readonly (readonly string[])[]): string => {
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  if (rows.length === 0 || width === 0) return '';
  const line = (r: readonly string[]): string =>
    `| ${Array.from({ length: width }, (_, i) => cellText(r[i] ?? '')).join(' | ')} |`;
  const [head, ...body] = rows;
  return [line(head!), `| ${Array.from({ length: width }, () => '---').join(' | ')} |`, ...body.map(line)].join('\n');
};

/** Escapes characters that would start Markdown syntax at the beginning of plain text. */
export const escapeMarkdownText = (s: string): string =>
  s.replace(/\\/g, '\\\\').replace(/([*_`[\]])/g, '\\$1').replace(/^(\s*)([#>+-]|\d+\.)(\s)/, '$1\\$2$3');
