/**
 * The `completed` callback of office jobs at a real loopback receiver, sent by the real
 * dispatcher: the body the client reads (client-contract §3.4), sent to exactly the given
 * callback_url with the token, and every URL in it answers 200 while the receiver still holds
 * the `completed` request open (artifacts are ready before completion).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officeJobType } from '../../src/handlers/office/office-handler.js';
import { officeViaPdfJobType } from '../../src/handlers/office/office-via-pdf-handler.js';
import { pdfJobType } from '../../src/handlers/pdf/pdf-handler.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { closeCpuPool } from '../../src/worker/cpu-pool.js';
import { createTestApi, until, type TestApi } from '../api/api-fixtures.js';
import { docx, makeDocx, makePptx, solidPng } from '../helpers/make-office.js';
import { testDispatcherOptions } from './harness.js';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver.js';
import { skipWithoutSoffice } from '../helpers/soffice.js';

const noSoffice = skipWithoutSoffice('office-webhook.test');

const HOLD_MS = 1500;
let api: TestApi;
let receiver: Receiver;
let dispatcher: WebhookDispatcher;
/** GETs made while the receiver held a `completed` request open: url → status. */
const fetchedWhileHeld = new Map<string, Array<{ url: string; status: number; before: boolean }>>();

const post = async (fields: Record<string, string>, file: { bytes: Uint8Array; name: string }, url = '/api/office/process') => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file.bytes]), file.name);
  const res = await api.app.inject({ method: 'POST', url, payload: form });
  return { status: res.statusCode, body: res.json() as Record<string, any> };
};

const completedOf = (path: string): ReceivedRequest | undefined => receiver.requests.find((r) => r.url === path && r.body.phase === 'completed');

beforeAll(async () => {
  api = await createTestApi({ worker: true, config: { security: { allow_private_urls: true } } });
  api.registry.register(pdfJobType(api.config)).register(officeJobType(api.config));
  api.registry.register(
    officeViaPdfJobType({ config: api.config, models: ModelGateway.fromConfig(api.config), runPdf: (job, ctx) => api.registry.get('pdf')!.handler(job, ctx) }),
  );
  // the receiver holds every `completed` open and, meanwhile, downloads each URL in it (like the client)
  receiver = await startReceiver((req) => {
    if (req.body.phase !== 'completed') return { kind: 'ok' };
    const got: Array<{ url: string; status: number; before: boolean }> = [];
    fetchedWhileHeld.set(req.url, got);
    const urls = Object.entries(req.body.data ?? {})
      .filter(([k, v]) => k.endsWith('_url') && typeof v === 'string')
      .map(([, v]) => v as string);
    const answerAt = Date.now() + HOLD_MS;
    void Promise.all(
      urls.map(async (u) => {
        const res = await api.app.inject({ url: u });
        got.push({ url: u, status: res.statusCode, before: Date.now() < answerAt });
      }),
    );
    return { kind: 'ok', delayMs: HOLD_MS };
  });
  dispatcher = new WebhookDispatcher(api.store, api.registry, testDispatcherOptions({ timeoutMs: 10_000 }), { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} });
  dispatcher.start();
});

afterAll(async () => {
  await dispatcher.stop(1000);
  await receiver.close();
  await api.close();
  await closeCpuPool();
});

describe('office completed callback', () => {
  it('goes to exactly the callback_url with the token and carries extracted_text, metadata, markdown_url, archive_url', async () => {
    const png = await solidPng(20, 20);
    const bytes = makePptx([
      { title: 'Agenda', bullets: [{ text: 'Budget' }, { text: 'Details', level: 1 }], image: { name: 'image1.png', bytes: png } },
      { title: 'Ende', notes: 'Danke sagen.' },
    ]);
    const cb = receiver.url('/api/external/jobs/client-9');
    const { status, body } = await post({ callback_url: cb, callback_token: 'tok-9', jobId: 'client-9', useCache: 'false', includePreviews: 'false' }, { bytes, name: 'agenda.pptx' });
    expect(status).toBe(202);
    expect(body.webhook).toEqual({ delivered_to: cb });
    const jobId = body.job.id as string;
    await until(() => fetchedWhileHeld.get('/api/external/jobs/client-9')?.length === 2, 30_000);
    const done = completedOf('/api/external/jobs/client-9')!;
    expect(done.headers.authorization).toBe('Bearer tok-9');
    expect(done.headers['x-callback-token']).toBe('tok-9');
    expect(done.body).toMatchObject({ phase: 'completed', process: { id: jobId }, job: { id: jobId, external_id: 'client-9' } });
    const data = done.body.data;
    expect(data.extracted_text).toContain('--- Seite 1 ---\n\n## Agenda');
    expect(data.extracted_text).toContain('> Danke sagen.');
    expect(data.metadata.text_contents.map((t: any) => t.page)).toEqual([1, 2]);
    expect(data.metadata.format).toBe('pptx');
    expect(data.metadata).not.toHaveProperty('chapters');
    expect(data.metadata).not.toHaveProperty('pages');
    expect(data.metadata).not.toHaveProperty('process_dir');
    expect(data.markdown_url).toBe(`/api/office/jobs/${jobId}/markdown`);
    expect(data.archive_url).toBe(`/api/jobs/${jobId}/download-archive`);
    expect(data).not.toHaveProperty('images_archive_url');
    // both URLs answered 200 while the receiver still held the completed request open
    expect(fetchedWhileHeld.get('/api/external/jobs/client-9')).toEqual(
      expect.arrayContaining([
        { url: data.markdown_url, status: 200, before: true },
        { url: data.archive_url, status: 200, before: true },
      ]),
    );
    // progress callbacks went to the same URL, before it, and nothing came after it
    const mine = receiver.requests.filter((r) => r.body?.process?.id === jobId);
    expect(mine.every((r) => r.url === '/api/external/jobs/client-9')).toBe(true);
    expect(mine.at(-1)?.body.phase).toBe('completed');
    expect(mine.filter((r) => r.body.phase === 'completed')).toHaveLength(1);
  }, 60_000);

  it.skipIf(noSoffice)('office_via_pdf sends images_archive_url with includeImages, and it answers 200 before completion', async () => {
    const png = await solidPng(50, 30);
    const bytes = makeDocx([docx.heading(1, 'Mit Bild'), docx.image('rIdImg1', 'Bild', 1)], { images: [{ name: 'image1.png', bytes: png }] });
    const { body } = await post({ callback_url: receiver.url('/cb/via-pdf'), extraction_method: 'native', includeImages: 'true' }, { bytes, name: 'bild.docx' }, '/api/office/process-via-pdf');
    const jobId = body.job.id as string;
    await until(() => fetchedWhileHeld.get('/cb/via-pdf')?.length === 2, 60_000);
    const data = completedOf('/cb/via-pdf')!.body.data;
    expect(data.extracted_text).toContain('--- Seite 1 ---');
    expect(data.extracted_text).toContain('Mit Bild');
    expect(data.metadata).toEqual({ text_contents: [{ page: 1, content: expect.stringContaining('Mit Bild') }] });
    expect(data.markdown_url).toBe(`/api/office/jobs/${jobId}/markdown`);
    expect(data.images_archive_url).toBe(`/api/jobs/${jobId}/download-archive`);
    expect(data).not.toHaveProperty('mistral_ocr_raw_url');
    for (const g of fetchedWhileHeld.get('/cb/via-pdf')!) expect(g).toMatchObject({ status: 200, before: true });
  }, 90_000);
});
