/** Text clean-up shared by native extraction and OCR. */

/**
 * Joins words hyphenated at a line end when the next line goes on in lower case:
 * `Blüten-\npracht` → `Blütenpracht`. `Nord-\nSüd` stays (an upper-case continuation is
 * usually a real compound hyphen). Soft hyphens (U+00AD) at line ends are treated alike.
 */
export const dehyphenate = (text: string): string =>
  text.replace(/(\p{L})[-\u00AD][ \t]*\r?\n[ \t]*(?=\p{Ll})/gu, '$1');

/** Normalises line ends and trims trailing blanks of lines and of the text. */
export const tidyText = (text: string): string =>
  text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

export const cleanPageText = (raw: string): string =>
  tidyText(dehyphenate(raw.replace(/\r\n?/g, '\n')));

/** The original's page marker: each page contributes `"\n--- Seite " + N + " ---\n" + text`. */
export const joinPages = (pages: ReadonlyArray<{ page: number; content: string }>): string =>
  pages.map((p) => `\n--- Seite ${p.page} ---\n${p.content}`).join('');
