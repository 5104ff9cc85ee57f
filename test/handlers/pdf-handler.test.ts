/** The `pdf` and `imageocr` job types end to end through a real store and worker. */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import { registerBuiltinHandlers } from '../../src/handlers/index.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import { WorkerManager } from '../../src/worker/worker-manager.js';
import type { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  fastWorkerOptions,
  openSqlite,
  quietLogger,
  tempDir,
  waitForJob,
} from '../helpers/worker-fixtures.js';
import { textPdf } from '../processors/helpers/make-docs.js';

let store: SqliteJobStore;
let worker: WorkerManager;
let config: SecretaryConfig;
let registry: HandlerRegistry;
let cleanup: () => void;
let server: Server;
let base: string;
let pdfBytes: Uint8Array;

const done = (id: string) =>
  waitForJob(store, id, (j) => j.status === 'completed' || j.status === 'failed', 60_000);

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  config = loadConfig({
    home: t.dir,
    env: {},
    overrides: { security: { allow_private_urls: true } },
  });
  mkdirSync(join(config.paths.cache_dir, 'uploads'), { recursive: true });
  store = await openSqlite(join(t.dir, 'data', 'q.db'));
  registry = registerBuiltinHandlers(new HandlerRegistry(), {
    config,
    models: ModelGateway.fromConfig(config),
  });
  worker = new WorkerManager(
    store,
    registry,
    fastWorkerOptions({ leaseMs: 30_000, heartbeatMs: 5000 }),
    quietLogger(),
  );
  worker.start();
  pdfBytes = await textPdf([
    ['Grüße aus Südtirol: Äpfel und Öl.'],
    ['Zweite Seite mit Straße.'],
    ['Dritte Seite.'],
  ]);
  server = createServer((req, res) => {
    if (req.url === '/doc.pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.end(Buffer.from(pdfBytes));
    } else {
      res.writeHead(500);
      res.end('nope');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await worker.stop(1000);
  await store.close();
  server.close();
  cleanup();
});

const upload = (name: string, bytes: Uint8Array): string => {
  const p = join(config.paths.cache_dir, 'uploads', name);
  writeFileSync(p, bytes);
  return p;
};

describe('pdf job type', () => {
  it('extracts native text with page markers, page files and API URLs; a second run is a cache hit', async () => {
    const file = upload('a.pdf', pdfBytes);
    const { job } = await store.createJob({
      job_type: 'pdf',
      parameters: { file_path: file, extraction_method: 'native' },
    });
    const first = await done(job.job_id);
    expect(first.status).toBe('completed');
    const r = first.results as Record<string, any>;
    expect(r.extracted_text).toContain('--- Seite 1 ---');
    expect(r.extracted_text).toContain('Grüße aus Südtirol');
    expect(r.extracted_text).toContain('--- Seite 3 ---');
    expect(r.text_contents).toHaveLength(3);
    expect(r.text_contents[1]).toMatchObject({ page: 2 });
    expect(r.metadata.text_contents).toBeUndefined();
    expect(JSON.stringify(r).split('Grüße aus Südtirol').length - 1).toBe(2);
    expect(r.page_texts[0]).toMatch(
      /^\/api\/pdf\/text-content\/cache\/pdf\/[0-9a-f]{32}\/native_[0-9a-f]{8}\/page_001\.txt$/,
    );
    expect(r.is_from_cache).toBe(false);
    const txt = join(
      config.paths.home,
      decodeURIComponent(r.page_texts[0].replace('/api/pdf/text-content/', '')),
    );
    expect(existsSync(txt)).toBe(true);
    const again = (
      await store.createJob({
        job_type: 'pdf',
        parameters: { file_path: file, extraction_method: 'native' },
      })
    ).job;
    const second = await done(again.job_id);
    expect((second.results as Record<string, any>).is_from_cache).toBe(true);
    expect((second.results as Record<string, any>).extracted_text).toBe(r.extracted_text);
    const cb = registry.get('pdf')!.callbackData!(second, (p) => `https://s.example${p}`);
    expect(cb).toMatchObject({
      extracted_text: r.extracted_text,
      metadata: { text_contents: r.text_contents },
    });
  });

  it('honours the page range and builds the images archive', async () => {
    const file = upload('b.pdf', pdfBytes);
    const { job } = await store.createJob({
      job_type: 'pdf',
      parameters: {
        file_path: file,
        extraction_method: 'native',
        page_start: 2,
        page_end: 3,
        include_images: true,
      },
    });
    const j = await done(job.job_id);
    const r = j.results as Record<string, any>;
    expect(j.status).toBe('completed');
    expect(r.text_contents.map((t: { page: number }) => t.page)).toEqual([2, 3]);
    expect(r.extracted_text).not.toContain('--- Seite 1 ---');
    expect(r.archive_path).toMatch(/_images\.zip$/);
    expect(existsSync(join(config.paths.home, r.archive_path))).toBe(true);
    const cb = registry.get('pdf')!.callbackData!(j, (p) => p);
    expect(cb.images_archive_url).toBe(`/api/jobs/${j.job_id}/download-archive`);
  });

  it('downloads from a URL; failures carry stable codes', async () => {
    const ok = (await store.createJob({ job_type: 'pdf', parameters: { url: `${base}/doc.pdf` } }))
      .job;
    expect((await done(ok.job_id)).status).toBe('completed');
    const bad = (
      await store.createJob({
        job_type: 'pdf',
        parameters: { url: `${base}/missing`, max_attempts: 1 },
        max_attempts: 1,
      })
    ).job;
    const failed = await done(bad.job_id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('DOWNLOAD_FAILED');
  });

  it('refuses a PNG named .pdf, a file outside the allowed roots and an LLM method without provider', async () => {
    const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const fake = upload('fake.pdf', png);
    const a = (await store.createJob({ job_type: 'pdf', parameters: { file_path: fake } })).job;
    expect((await done(a.job_id)).error?.code).toBe('UNSUPPORTED_FILE');
    const b = (
      await store.createJob({ job_type: 'pdf', parameters: { file_path: '/etc/hostname' } })
    ).job;
    expect((await done(b.job_id)).error?.code).toBe('FORBIDDEN');
    const c = (
      await store.createJob({
        job_type: 'pdf',
        parameters: { file_path: upload('c.pdf', pdfBytes), extraction_method: 'mistral_ocr' },
      })
    ).job;
    const cj = await done(c.job_id);
    expect(cj.error?.code).toBe('LLM_NOT_CONFIGURED');
    expect(cj.attempts).toBe(1);
  });

  it('validates parameters at enqueue (seed examples are accepted)', () => {
    expect(
      registry.validate('pdf', {
        url: 'https://example.com/document.pdf',
        extraction_method: 'native',
        use_cache: true,
        extra: { include_images: true },
      }),
    ).toEqual([]);
    expect(
      registry.validate('pdf', { filename: '/path/to/file.pdf', extraction_method: 'combined' }),
    ).toEqual([]);
    expect(
      registry.validate('pdf', {
        file_path: 'C:/data/docs/report.pdf',
        url: null,
        extraction_method: 'llm_and_native',
        include_images: true,
        template: 'Session',
        context: { document_type: 'report', language: 'de' },
        use_cache: true,
        force_overwrite: false,
      }),
    ).toEqual([]);
    expect(registry.validate('pdf', { extraction_method: 'native' })[0]?.problem).toMatch(
      /file_path, filename or url/,
    );
    expect(
      registry.validate('pdf', { url: 'x', extraction_method: 'magic' }).length,
    ).toBeGreaterThan(0);
    expect(registry.validate('pdf', { url: 'ftp://x/y.pdf' })[0]?.path).toBe('/parameters/url');
  });
});

describe('imageocr job type', () => {
  it('reads image metadata and refuses oversized images', async () => {
    const img = await sharp({
      create: { width: 300, height: 120, channels: 3, background: '#ffffff' },
    })
      .png()
      .toBuffer();
    const file = upload('i.png', img);
    const j = await done(
      (
        await store.createJob({
          job_type: 'imageocr',
          parameters: { file_path: file, extraction_method: 'preview' },
        })
      ).job.job_id,
    );
    expect(j.status).toBe('completed');
    expect((j.results as Record<string, any>).metadata).toMatchObject({
      dimensions: '300x120',
      format: 'PNG',
    });
    const big = await sharp({
      create: { width: 5000, height: 10, channels: 3, background: '#fff' },
    })
      .png()
      .toBuffer();
    const bj = await done(
      (
        await store.createJob({
          job_type: 'imageocr',
          parameters: { file_path: upload('big.png', big) },
        })
      ).job.job_id,
    );
    expect(bj.error?.code).toBe('IMAGE_TOO_LARGE');
  });
});
