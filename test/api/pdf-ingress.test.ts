/** The original's ingress endpoints over real HTTP: multipart uploads, ACK, wait_ms, artifacts. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageOcrJobType } from '../../src/handlers/imageocr/imageocr-handler.js';
import { pdfJobType } from '../../src/handlers/pdf/pdf-handler.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import { textPdf } from '../processors/helpers/make-docs.js';
import { createTestApi, until, type TestApi } from './api-fixtures.js';

let api: TestApi;
let base: string;
let docServer: Server;
let docBase: string;
let pdf: Uint8Array;

const post = async (path: string, fields: Record<string, string>, file?: { bytes: Uint8Array; name: string }) => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file.bytes]), file.name);
  const res = await fetch(`${base}${path}`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

beforeAll(async () => {
  api = await createTestApi({ worker: true, config: { security: { allow_private_urls: true }, server: { upload_limit_mb: 1 } } });
  api.registry.register(pdfJobType(api.config, ModelGateway.fromConfig(api.config))).register(imageOcrJobType(api.config));
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  pdf = await textPdf([['Erste Seite über Grünflächen.'], ['Zweite Seite.']]);
  docServer = createServer((req, res) => {
    res.writeHead(req.url === '/doc.pdf' ? 200 : 404, { 'content-type': 'application/pdf' });
    res.end(req.url === '/doc.pdf' ? Buffer.from(pdf) : '');
  });
  await new Promise<void>((r) => docServer.listen(0, '127.0.0.1', r));
  docBase = `http://127.0.0.1:${(docServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  docServer.close();
  await api.close();
});

describe('POST /api/pdf/process', () => {
  it('answers the 202 ACK with the internal job id at once', async () => {
    const { status, body } = await post('/api/pdf/process', { extraction_method: 'native' }, { bytes: pdf, name: 'a.pdf' });
    expect(status).toBe(202);
    expect(body).toMatchObject({ status: 'accepted', worker: 'secretary', webhook: null, error: null });
    expect(body.job.id).toMatch(/^job-/);
    expect(body.process.id).toBe(body.job.id);
    const job = await api.store.getJob(body.job.id);
    expect(job?.parameters).toMatchObject({ extraction_method: 'native', use_cache: true, include_images: false, original_filename: 'a.pdf' });
    expect(String(job?.parameters.upload_path)).toMatch(/^cache\/uploads\/upload_[0-9a-f-]+\.pdf$/);
  });

  it('writes the upload into an empty file prepared ahead of time (same inode)', async () => {
    const reserve = api.app.uploadReserve!;
    await until(() => reserve.available > 0);
    const prepared = new Set(readdirSync(reserve.home).map((f) => statSync(join(reserve.home, f)).ino));
    const { status, body } = await post('/api/pdf/process', { extraction_method: 'native' }, { bytes: pdf, name: 'r.pdf' });
    expect(status).toBe(202);
    const job = await api.store.getJob(body.job.id);
    const upload = join(api.config.paths.cache_dir, String(job?.parameters.upload_path).replace(/^cache\//, ''));
    expect(prepared.has(statSync(upload).ino)).toBe(true);
    expect(readFileSync(upload).equals(Buffer.from(pdf))).toBe(true);
  });

  it('waits with wait_ms and answers the result envelope with page markers', async () => {
    const { status, body } = await post('/api/pdf/process', { extraction_method: 'native', wait_ms: '60000' }, { bytes: pdf, name: 'b.pdf' });
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data.extracted_text).toContain('--- Seite 2 ---');
    expect(body.data.metadata.text_contents).toHaveLength(2);
  });

  it('stores the webhook (token never returned) and is idempotent by jobId', async () => {
    const fields = { callback_url: 'http://127.0.0.1:9/cb/42', callback_token: 'tok-secret', jobId: 'client-42', useCache: 'false' };
    const a = await post('/api/pdf/process', fields, { bytes: pdf, name: 'c.pdf' });
    const b = await post('/api/pdf/process', fields, { bytes: pdf, name: 'c.pdf' });
    expect(a.status).toBe(202);
    expect(a.body.webhook).toEqual({ delivered_to: 'http://127.0.0.1:9/cb/42' });
    expect(a.body.job).toMatchObject({ external_id: 'client-42' });
    expect(b.body.job.id).toBe(a.body.job.id);
    expect(JSON.stringify(a.body)).not.toContain('tok-secret');
    const res = await fetch(`${base}/api/jobs/${a.body.job.id}`);
    expect(await res.text()).not.toContain('tok-secret');
  });

  it('rejects bad input with stable 4xx codes and stores nothing', async () => {
    const before = (await api.store.stats()).by_status.reduce((n, s) => n + s.count, 0);
    expect((await post('/api/pdf/process', { extraction_method: 'native' })).body.error.code).toBe('INVALID_PARAMETERS');
    expect((await post('/api/pdf/process', { extraction_method: 'magic' }, { bytes: pdf, name: 'x.pdf' })).status).toBe(400);
    expect((await post('/api/pdf/process', { useCache: 'maybe' }, { bytes: pdf, name: 'x.pdf' })).body.error.code).toBe('INVALID_PARAMETERS');
    expect((await post('/api/pdf/process', { context: '{not json' }, { bytes: pdf, name: 'x.pdf' })).status).toBe(400);
    expect((await post('/api/pdf/process', { callback_url: 'ftp://x/y' }, { bytes: pdf, name: 'x.pdf' })).status).toBe(400);
    const big = await post('/api/pdf/process', {}, { bytes: new Uint8Array(2 * 1024 * 1024), name: 'big.pdf' });
    expect(big.status).toBe(413);
    const after = (await api.store.stats()).by_status.reduce((n, s) => n + s.count, 0);
    expect(after).toBe(before);
  });
});

describe('URL, Mistral and image ingress', () => {
  it('processes a URL', async () => {
    const { status, body } = await post('/api/pdf/process-url', { url: `${docBase}/doc.pdf`, wait_ms: '60000' });
    expect(status).toBe(200);
    expect(body.data.extracted_text).toContain('Grünflächen');
  });

  it('accepts the Mistral fields and fails cleanly without a provider', async () => {
    const ack = await post('/api/pdf/process-mistral-ocr', { includeOCRImages: 'true', includePreviewPages: 'true', includeHighResPages: 'true', useCache: 'false' }, { bytes: pdf, name: 'm.pdf' });
    expect(ack.status).toBe(202);
    const job = await api.store.getJob(ack.body.job.id);
    expect(job?.parameters).toMatchObject({ extraction_method: 'mistral_ocr_with_pages', include_preview_pages: true, include_high_res_pages: true });
    const waited = await post('/api/pdf/process-mistral-ocr', { wait_ms: '60000' }, { bytes: pdf, name: 'm.pdf' });
    expect(waited.status).toBe(422);
    expect(waited.body.error.code).toBe('LLM_NOT_CONFIGURED');
  });

  it('image OCR answers synchronously without callback_url', async () => {
    const png = await sharp({ create: { width: 200, height: 80, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const { status, body } = await post('/api/imageocr/process', { extraction_method: 'preview' }, { bytes: png, name: 'i.png' });
    expect(status).toBe(200);
    expect(body.data.metadata).toMatchObject({ dimensions: '200x80' });
  });
});

describe('PDF artifact routes', () => {
  it('serves the pages archive; 404 unknown; 400 when there is none', async () => {
    const { body } = await post('/api/pdf/process', { extraction_method: 'preview', wait_ms: '60000' }, { bytes: pdf, name: 'p.pdf' });
    const id = body.data.job_id as string;
    const zip = await fetch(`${base}/api/pdf/jobs/${id}/download-pages-archive`);
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const entries = Object.keys(unzipSync(new Uint8Array(await zip.arrayBuffer())));
    expect(entries).toEqual(expect.arrayContaining(['preview_001.jpg', 'preview_002.jpg']));
    expect((await fetch(`${base}/api/pdf/jobs/job-nope/download-pages-archive`)).status).toBe(404);
    const native = await post('/api/pdf/process', { extraction_method: 'native', wait_ms: '60000' }, { bytes: pdf, name: 'n.pdf' });
    expect((await fetch(`${base}/api/pdf/jobs/${native.body.data.job_id}/mistral-ocr-raw`)).status).toBe(400);
  });
});
