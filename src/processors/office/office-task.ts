/**
 * The CPU-pool task that turns one DOCX, XLSX or PPTX into Markdown (+ image files). Runs on
 * a worker thread (parsing a 10k-row sheet takes about half a second of pure CPU). Errors
 * come back as data: an Error's own fields do not survive the thread boundary.
 */
import { readFile } from 'node:fs/promises';
import { SecretaryError } from '../../core/errors.js';
import { docxToMarkdown } from './docx-to-markdown.js';
import { officeKindOf, openPackage } from './ooxml-package.js';
import { pptxToMarkdown } from './pptx-to-markdown.js';
import type { OfficeMarkdown, OfficeMarkdownTask } from './types.js';
import { xlsxToMarkdown } from './xlsx-to-markdown.js';
import { child, parseXml, textOf } from './xml.js';

export type OfficeTaskResult =
  | { ok: true; value: OfficeMarkdown }
  | { ok: false; code: 'UNSUPPORTED_FILE' | 'CORRUPT_FILE'; message: string; details: Record<string, unknown> | null };

const coreTitle = (xml: string | undefined): string | null => {
  if (!xml) return null;
  try {
    const t = child(parseXml(xml), 'title');
    const s = t ? textOf(t).trim() : '';
    return s || null;
  } catch {
    return null;
  }
};

const convert = async (task: OfficeMarkdownTask): Promise<OfficeMarkdown> => {
  const bytes = await readFile(task.filePath);
  const pkg = openPackage(bytes, {
    maxUnpackedBytes: task.maxUnpackedBytes,
    want: (name) =>
      name === 'docProps/core.xml' ||
      (name.startsWith('ppt/') && (task.includeImages || !name.startsWith('ppt/media/'))),
  });
  const kind = officeKindOf(pkg.names);
  if (!kind) {
    throw new SecretaryError('UNSUPPORTED_FILE', 'not a DOCX, XLSX or PPTX document (a ZIP without word/, xl/ or ppt/ main part)', { detected: 'zip' });
  }
  const title = coreTitle(pkg.text('docProps/core.xml'));
  if (kind === 'docx') {
    const r = await docxToMarkdown(bytes, { outDir: task.outDir, includeImages: task.includeImages });
    return { kind, markdown: r.markdown, text_contents: [{ page: 1, content: r.markdown, title }], images: r.images, warnings: r.warnings, unit_count: null, title, truncated_rows: 0 };
  }
  if (kind === 'xlsx') {
    const r = await xlsxToMarkdown(bytes, { maxRows: task.maxSheetRows });
    return { kind, markdown: r.markdown, text_contents: r.text_contents, images: [], warnings: r.warnings, unit_count: r.sheets, title, truncated_rows: r.truncated_rows };
  }
  const r = await pptxToMarkdown(pkg, { outDir: task.outDir, includeImages: task.includeImages });
  return { kind, markdown: r.markdown, text_contents: r.text_contents, images: r.images, warnings: r.warnings, unit_count: r.slides, title, truncated_rows: 0 };
};

export const officeToMarkdownTask = async (task: OfficeMarkdownTask): Promise<OfficeTaskResult> => {
  try {
    return { ok: true, value: await convert(task) };
  } catch (err) {
    if (err instanceof SecretaryError && (err.code === 'UNSUPPORTED_FILE' || err.code === 'CORRUPT_FILE')) {
      return { ok: false, code: err.code, message: err.message, details: err.details };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, code: 'CORRUPT_FILE', message: `the document could not be read: ${message.slice(0, 300)}`, details: null };
  }
};
