/**
 * One office document → a finished work dir: `output.md`, `images/`, `previews/` (+ the
 * rendered `previews/document.pdf`) and `archive.zip` with all of them. Written into a temp
 * sibling and renamed onto `workDir` at the end, so a concurrent reader never sees half a
 * directory and a failure leaves nothing behind.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SecretaryError } from '../../core/errors.js';
import type { CpuPool } from '../../worker/cpu-pool.js';
import { getCpuPool } from '../../worker/cpu-pool.js';
import { abortError, throwIfAborted } from '../abort.js';
import { writeZip } from '../archive/zip-writer.js';
import { sniffFile } from '../file-type.js';
import { createStagedDir } from '../work-dir.js';
import { DEFAULT_MAX_UNPACKED } from './ooxml-package.js';
import { renderOfficePreviews } from './office-previews.js';
import type { OfficeTaskResult } from './office-task.js';
import type { ExtractOfficeOptions, OfficeMarkdownTask, OfficeResult } from './types.js';

export const DEFAULT_MAX_SHEET_ROWS = 10_000;
export const DEFAULT_MAX_PREVIEW_PAGES = 50;

const EXT = { docx: '.docx', xlsx: '.xlsx', pptx: '.pptx' } as const;

export const extractOffice = async (opts: ExtractOfficeOptions, deps: { pool?: CpuPool } = {}): Promise<OfficeResult> => {
  const { signal } = opts;
  const progress = (step: string, percent: number, message: string | null): void => {
    try {
      opts.onProgress?.(step, percent, message);
    } catch {
      // a failing listener must not fail the conversion
    }
  };
  const pool = deps.pool ?? getCpuPool();
  const st = await stat(opts.filePath).catch(() => null);
  if (!st?.isFile()) throw new SecretaryError('FILE_NOT_FOUND', `file not found: ${path.basename(opts.filePath)}`);
  if (st.size === 0) throw new SecretaryError('CORRUPT_FILE', 'the file is empty');
  const sniffed = await sniffFile(opts.filePath);
  if (sniffed !== 'zip') {
    throw new SecretaryError('UNSUPPORTED_FILE', `not a DOCX, XLSX or PPTX document (the content is ${sniffed}); older .doc/.xls/.ppt files can go through office_via_pdf`, { detected: sniffed });
  }
  throwIfAborted(signal);
  const staged = await createStagedDir(opts.workDir);
  try {
    progress('processing', 30, 'Dokument wird in Markdown umgewandelt');
    const task: OfficeMarkdownTask = {
      filePath: opts.filePath,
      outDir: staged.tempDir,
      includeImages: opts.includeImages,
      maxSheetRows: opts.maxSheetRows ?? DEFAULT_MAX_SHEET_ROWS,
      maxUnpackedBytes: opts.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED,
    };
    let r: OfficeTaskResult;
    try {
      r = await pool.run<OfficeTaskResult>('officeToMarkdown', task, signal);
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      throw err;
    }
    if (!r.ok) throw new SecretaryError(r.code, r.message, r.details);
    const md = r.value;
    await writeFile(path.join(staged.tempDir, 'output.md'), md.markdown, 'utf8');

    let previews: string[] = [];
    let pageCount: number | null = null;
    let skipped: string | null = null;
    if (opts.includePreviews) {
      progress('processing', 60, 'Vorschaubilder werden erstellt');
      try {
        const p = await renderOfficePreviews({
          filePath: opts.filePath,
          extension: EXT[md.kind],
          outDir: path.join(staged.tempDir, 'previews'),
          maxPages: opts.maxPreviewPages ?? DEFAULT_MAX_PREVIEW_PAGES,
          soffice: opts.soffice,
          signal,
          pool,
        });
        previews = p.previews.map((n) => `previews/${n}`);
        pageCount = p.page_count;
      } catch (err) {
        if (signal?.aborted) throw abortError(signal);
        // previews are an extra: a missing or failing LibreOffice does not fail the Markdown
        if (!(err instanceof SecretaryError) || !['MEDIA_TOOL_MISSING', 'CONVERSION_FAILED', 'PROCESSING_TIMEOUT', 'CORRUPT_FILE'].includes(err.code)) throw err;
        skipped = `${err.code}: ${err.message}`;
        await rm(path.join(staged.tempDir, 'previews'), { recursive: true, force: true });
      }
    }

    progress('postprocessing', 85, 'Archiv wird erstellt');
    const entries = ['output.md', ...md.images, ...previews].map((name) => ({ name, filePath: path.join(staged.tempDir, name) }));
    await writeZip(path.join(staged.tempDir, 'archive.zip'), entries, signal);
    throwIfAborted(signal);
    await staged.commit();
    return { ...md, previews, page_count: pageCount, markdown_file: 'output.md', archive: 'archive.zip', previews_skipped: skipped };
  } catch (err) {
    await staged.discard();
    if (signal?.aborted) throw abortError(signal);
    throw err;
  }
};
