import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuPool } from '../../src/worker/cpu-pool.js';
import type { CpuPool } from '../../src/worker/cpu-pool.js';
import type { PdfInspectResult, PdfPageOutput } from '../../src/processors/pdf/page-tasks-types.js';
import { makeTempDir, manyPagesPdf, writeTemp } from './helpers/make-docs.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let pool: CpuPool;
let pdf: string;

beforeAll(async () => {
  tmp = await makeTempDir();
  pdf = await writeTemp(tmp.dir, 'many.pdf', await manyPagesPdf(200));
  pool = createCpuPool({ threads: 2 });
});

afterAll(async () => {
  await pool.close();
  await tmp.cleanup();
});

const pagesTask = (pages: number[]) => ({
  filePath: pdf,
  pages,
  outDir: tmp.dir,
  text: true,
  main: null,
  preview: null,
  highRes: { dpi: 200, quality: 85 },
  embeddedImages: false,
  ocrDpi: null,
  vision: null,
});

describe('cpu pool', () => {
  it('runs the TypeScript task file on worker threads under vitest', async () => {
    expect(pool.threads).toBe(2);
    const info = await pool.run<PdfInspectResult>('inspectPdf', { filePath: pdf });
    expect(info).toMatchObject({ status: 'ok', info: { page_count: 200 } });
    const out = await pool.run<PdfPageOutput[]>('processPdfPages', pagesTask([1, 2]));
    expect(out.map((o) => [o.page, o.text?.trim(), o.highRes])).toEqual([
      [1, 'Seite 1 von 200', 'page_001.jpeg'],
      [2, 'Seite 2 von 200', 'page_002.jpeg'],
    ]);
    expect(path.isAbsolute(tmp.dir)).toBe(true);
  });

  it('aborts a running task and keeps working afterwards', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = pool.run(
      'processPdfPages',
      pagesTask(Array.from({ length: 200 }, (_, i) => i + 1)),
      ac.signal,
    );
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(5_000);
    const info = await pool.run<PdfInspectResult>('inspectPdf', { filePath: pdf });
    expect(info.status).toBe('ok');
  });

  it('rejects an unknown task name', async () => {
    await expect(pool.run('noSuchTask', {})).rejects.toThrow(/unknown CPU task/);
  });
});
