/** The office endpoints with `app.inject()`: ACK, field names and defaults, safe upload names, artifacts, errors. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officeJobType } from '../../src/handlers/office/office-handler.js';
import { officeViaPdfJobType } from '../../src/handlers/office/office-via-pdf-handler.js';
import { pdfJobType } from '../../src/handlers/pdf/pdf-handler.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import { closeCpuPool } from '../../src/worker/cpu-pool.js';
import { docx, makeDocx } from '../helpers/make-office.js';
import { createTestApi, until, type TestApi } from './api-fixtures.js';

let api: TestApi;
let idle: TestApi;
let doc: Uint8Array;

const registerOffice = (t: TestApi): void => {
  t.registry.register(pdfJobType(t.config)).register(officeJobType(t.config));
  t.registry.register(
    officeViaPdfJobType({ config: t.config, models: ModelGateway.fromConfig(t.config), runPdf: (job, ctx) => t.registry.get('pdf')!.handler(job, ctx) }),
  );
};

const post = async (t: TestApi, url: string, fields: Record<string, string>, file?: { bytes: Uint8Array; name: string }) => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file.bytes]), file.name);
  const res = await t.app.inject({ method: 'POST', url, payload: form });
  return { status: res.statusCode, body: res.json() as Record<string, any> };
};

const uploads = (t: TestApi): string[] => {
  const dir = join(t.config.paths.cache_dir, 'uploads');
  return existsSync(dir) ? readdirSync(dir) : [];
};

beforeAll(async () => {
  api = await createTestApi({ worker: true, config: { processors: { office: { soffice_path: '/nonexistent/soffice' } } } });
  registerOffice(api);
  idle = await createTestApi({ worker: false });
  registerOffice(idle);
  doc = makeDocx([docx.heading(1, 'Protokoll'), docx.item('Beschluss A', 1), docx.table([['K', 'V'], ['a', '1']])]);
});

afterAll(async () => {
  await api.close();
  await idle.close();
  await closeCpuPool();
});

describe('POST /api/office/process', () => {
  it('answers 202 with the internal job id and the client jobId, and stores the original defaults', async () => {
    const { status, body } = await post(idle, '/api/office/process', { jobId: 'client-42' }, { bytes: doc, name: 'Protokoll.docx' });
    expect(status).toBe(202);
    expect(body).toMatchObject({ status: 'accepted', worker: 'secretary', error: null, job: { external_id: 'client-42' } });
    expect(body.job.id).toMatch(/^job-[0-9a-f-]{36}$/);
    expect(body.process).toMatchObject({ id: body.job.id, main_processor: 'office' });
    const job = await idle.store.getJob(body.job.id);
    expect(job?.job_type).toBe('office');
    expect(job?.external_id).toBe('client-42');
    expect(job?.parameters).toEqual({
      upload_path: expect.stringMatching(/^cache\/uploads\/upload_[0-9a-f-]{36}\.docx$/),
      original_filename: 'Protokoll.docx',
      use_cache: true,
      include_images: true,
      include_previews: true,
      force_refresh: false,
    });
  });

  it('takes the client fields as sent (useCache, includeImages, includePreviews, force_refresh)', async () => {
    const { body } = await post(idle, '/api/office/process', { useCache: 'false', includeImages: 'true', includePreviews: 'false', force_refresh: 'true' }, { bytes: doc, name: 'a.docx' });
    const job = await idle.store.getJob(body.job.id);
    expect(job?.parameters).toMatchObject({ use_cache: false, include_images: true, include_previews: false, force_refresh: true });
  });

  it('keeps only the base name of a traversal file name; nothing is written outside the uploads dir', async () => {
    const cache = api.config.paths.cache_dir;
    // where `<dir>/../../evil.docx` lands for the dirs an upload could be joined to
    const outside = [join(api.home, '..', 'evil.docx'), join(api.home, 'evil.docx'), join(cache, 'evil.docx'), join(cache, 'uploads', 'evil.docx')];
    // a file left there by someone else must at least not be touched
    const stamp = () => outside.map((p) => (existsSync(p) ? statSync(p).mtimeMs : null));
    const before = stamp();
    for (const name of ['../../evil.docx', '..\\..\\evil.docx']) {
      const { status, body } = await post(api, '/api/office/process', { wait_ms: '60000' }, { bytes: doc, name });
      expect(status, JSON.stringify(body)).toBe(200);
      const job = await api.store.getJob(body.data.job_id);
      expect(job?.parameters.original_filename).toBe('evil.docx');
      expect(String(job?.parameters.upload_path)).toMatch(/^cache\/uploads\/upload_[0-9a-f-]{36}\.docx$/);
      expect(stamp()).toEqual(before);
      const md = await api.app.inject({ url: `/api/office/jobs/${job!.job_id}/markdown` });
      expect(md.headers['content-disposition']).toContain('filename="evil.md"');
    }
  });

  it('with wait_ms answers 200 with the Markdown and the artifact URLs, which serve the files', async () => {
    const { status, body } = await post(api, '/api/office/process', { wait_ms: '60000' }, { bytes: doc, name: 'p.docx' });
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    const id = body.data.job_id as string;
    expect(body.data.extracted_text).toContain('# Protokoll');
    expect(body.data.extracted_text).toContain('| K | V |');
    expect(body.data.metadata.text_contents).toHaveLength(1);
    expect(body.data.markdown_url).toBe(`/api/office/jobs/${id}/markdown`);
    expect(body.data.archive_url).toBe(`/api/jobs/${id}/download-archive`);
    expect(body.data.images_archive_url).toBeUndefined();
    const md = await api.app.inject({ url: body.data.markdown_url });
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(md.body).toBe(body.data.extracted_text);
    const zip = await api.app.inject({ url: body.data.archive_url });
    expect(zip.statusCode).toBe(200);
    expect(zip.headers['content-disposition']).toContain(`office_${id}.zip`);
    expect(Buffer.from(unzipSync(zip.rawPayload)['output.md']!).toString('utf8')).toBe(body.data.extracted_text);
  });

  it('refuses what is not a DOCX/XLSX/PPTX with 415 and a missing file with 400, leaving no upload behind', async () => {
    const before = uploads(idle).length;
    const bad = await post(idle, '/api/office/process', {}, { bytes: new TextEncoder().encode('%PDF-1.4 not office'), name: 'x.docx' });
    expect(bad.status).toBe(415);
    expect(bad.body.error.code).toBe('UNSUPPORTED_FILE');
    expect(bad.body.error.message).toContain('process-via-pdf');
    const none = await post(idle, '/api/office/process', { jobId: 'x' });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('INVALID_PARAMETERS');
    const flag = await post(idle, '/api/office/process', { useCache: 'maybe' }, { bytes: doc, name: 'a.docx' });
    expect(flag.status).toBe(400);
    expect(uploads(idle).length).toBe(before);
  });
});

describe('POST /api/office/process-via-pdf', () => {
  it('stores the method (default mistral_ocr), page range, context and flags; ACK with both ids', async () => {
    const { status, body } = await post(
      idle,
      '/api/office/process-via-pdf',
      { page_start: '2', page_end: '4', context: '{"document_type":"presentation"}', target_language: 'en', jobId: 'c-7', template: 'Besprechung' },
      { bytes: doc, name: 'deck.pptx' },
    );
    expect(status).toBe(202);
    expect(body.job).toMatchObject({ id: expect.stringMatching(/^job-/), external_id: 'c-7' });
    expect(body.process.main_processor).toBe('office_via_pdf');
    const job = await idle.store.getJob(body.job.id);
    expect(job?.parameters).toMatchObject({
      extraction_method: 'mistral_ocr',
      page_start: 2,
      page_end: 4,
      context: { document_type: 'presentation' },
      target_language: 'en',
      template: 'Besprechung',
      use_cache: true,
      include_images: false,
      force_refresh: false,
      original_filename: 'deck.pptx',
    });
  });

  it('answers 400 for invalid JSON context, a bad page number, a reversed range and an unknown method', async () => {
    const cases: Array<Record<string, string>> = [{ context: '{oops' }, { page_start: '0' }, { page_start: '5', page_end: '2' }, { extraction_method: 'magic' }];
    for (const fields of cases) {
      const { status, body } = await post(idle, '/api/office/process-via-pdf', fields, { bytes: doc, name: 'a.docx' });
      expect(status, JSON.stringify(fields)).toBe(400);
      expect(body.error.code).toBe('INVALID_PARAMETERS');
    }
  });

  it('the default method without a Mistral key fails with LLM_NOT_CONFIGURED (422 with wait_ms)', async () => {
    const { status, body } = await post(api, '/api/office/process-via-pdf', { wait_ms: '30000' }, { bytes: doc, name: 'a.docx' });
    expect(status).toBe(422);
    expect(body.error.code).toBe('LLM_NOT_CONFIGURED');
    expect(body.error.message).toContain('MISTRAL_API_KEY');
  });
});

describe('GET /api/office/jobs/{id}/markdown and /mistral-ocr-raw', () => {
  it('404 for an unknown job, 202 while pending, 400 when the job has no such artifact', async () => {
    expect((await api.app.inject({ url: '/api/office/jobs/job-nope/markdown' })).statusCode).toBe(404);
    expect((await api.app.inject({ url: '/api/office/jobs/job-nope/mistral-ocr-raw' })).statusCode).toBe(404);
    const { body } = await post(idle, '/api/office/process', {}, { bytes: doc, name: 'a.docx' });
    const pending = await idle.app.inject({ url: `/api/office/jobs/${body.job.id}/markdown` });
    expect(pending.statusCode).toBe(202);
    expect(pending.json()).toMatchObject({ status: 'processing', data: { status: 'pending' } });
    const done = await post(api, '/api/office/process', { wait_ms: '60000' }, { bytes: doc, name: 'b.docx' });
    const raw = await api.app.inject({ url: `/api/office/jobs/${done.body.data.job_id}/mistral-ocr-raw` });
    expect(raw.statusCode).toBe(400);
    expect(raw.json().error.code).toBe('NO_ARTIFACT');
    const { job } = await api.store.createJob({ job_type: 'echo', parameters: {} });
    await until(async () => (await api.store.getJob(job.job_id))?.status === 'completed', 10_000);
    const echoMd = await api.app.inject({ url: `/api/office/jobs/${job.job_id}/markdown` });
    expect(echoMd.statusCode).toBe(400);
  });
});
