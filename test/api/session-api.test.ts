/**
 * `/api/session/*` and `/api/events/{event}/summary` with `app.inject()`: validation (every
 * missing field named, 400 not the original's 500), the seeds' `POST /api/jobs` body, the
 * synchronous envelope with a small inlined archive, the archive download, 202 with a callback
 * and from `process-async`, the cached listing, the event summary, and failures naming their
 * step — jobs run by a real worker with the `pdf`, `session` and `event_summary` types against
 * the fake providers and a loopback conference site.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeepPartial } from '../../src/config/load-config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { pdfJobType } from '../../src/handlers/pdf/pdf-handler.js';
import { eventSummaryJobType } from '../../src/handlers/session/event-summary-handler.js';
import { sessionJobType } from '../../src/handlers/session/session-handler.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import type { HandlerRegistry } from '../../src/worker/registry.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { sessionPage, startSessionSite, type SessionSite } from '../handlers/session-site.js';
import { createTestApi, type TestApi } from './api-fixtures.js';

let api: TestApi;
let fake: FakeProviders;
let site: SessionSite;
let tmp: { dir: string; cleanup: () => void };
/** Inline archives up to 10 KB in these tests. */
const CAP_MB = 0.01;

beforeAll(async () => {
  fake = await startFakeProviders();
  site = await startSessionSite();
  site.set('/talk/1', {
    type: 'text/html; charset=utf-8',
    body: sessionPage('Community Networks', 'Ada Lovelace'),
  });
  site.set('/talk/2', {
    type: 'text/html; charset=utf-8',
    body: sessionPage('Open Data for Cities', 'Grace Hopper'),
  });
  // a slide of noise: its preview does not compress, so the archive is larger than the cap
  const noise = Buffer.from(
    Array.from({ length: 600 * 400 * 3 }, (_, i) => (i * 7919 + ((i * i) % 251)) % 256),
  );
  const png = await sharp(noise, { raw: { width: 600, height: 400, channels: 3 } })
    .png()
    .toBuffer();
  const doc = await PDFDocument.create();
  doc
    .addPage([600, 400])
    .drawImage(await doc.embedPng(png), { x: 0, y: 0, width: 600, height: 400 });
  site.set('/noisy.pdf', { type: 'application/pdf', body: await doc.save() });
  tmp = tempDir('secretary-session-api-');
  // one cache and sessions dir for the API and the job types
  const overrides: DeepPartial<SecretaryConfig> = {
    paths: { cache_dir: join(tmp.dir, 'cache') },
    security: { allow_private_urls: true },
    processors: { session: { base_dir: join(tmp.dir, 'sessions'), inline_archive_max_mb: CAP_MB } },
    llm: { providers: { openai: { base_url: fake.openaiBaseUrl, max_retries: 0 } } },
  };
  const config = loadConfig({ home: tmp.dir, env: {}, overrides });
  const models = new ModelGateway({
    llm: config.llm,
    cacheDir: config.paths.cache_dir,
    backoffBaseMs: 10,
  });
  api = await createTestApi({
    worker: true,
    config: overrides,
    register: (r: HandlerRegistry) => {
      r.register(pdfJobType(config, models));
      const deps = { config, models, runJobType: (t: string) => r.get(t)?.handler ?? null };
      r.register(sessionJobType(deps));
      r.register(eventSummaryJobType(deps));
    },
  });
});
afterAll(async () => {
  await api.close();
  await site.close();
  await fake.close();
  tmp.cleanup();
});

const post = (url: string, payload: unknown) =>
  api.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
const session = (over: Record<string, unknown> = {}) => ({
  event: 'City Summit',
  session: 'Community Networks',
  url: `${site.base}/talk/1`,
  filename: 'Community-Networks.md',
  track: 'Infrastructure',
  day: '2025-03-04',
  speakers: ['Ada Lovelace'],
  source_language: 'en',
  target_language: 'de',
  ...over,
});

describe('validation', () => {
  it('answers 400 INVALID_PARAMETERS naming every missing field (the original answered 500)', async () => {
    const res = await post('/api/session/process', { target_language: 'de' });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.status).toBe('error');
    expect(body.error.code).toBe('INVALID_PARAMETERS');
    for (const f of ['event', 'session', 'url', 'track'])
      expect(body.error.message).toContain(`${f}: required`);
    expect(body.error.details.map((d: any) => d.path)).toEqual([
      '/parameters/event',
      '/parameters/session',
      '/parameters/url',
      '/parameters/track',
    ]);
  });

  it('checks POST /api/jobs the same way, and accepts seed 001 (extra.create_archive, extra.template)', async () => {
    const bad = await post('/api/jobs', {
      job_type: 'session',
      parameters: { event: 'FOSDEM 2025', url: 'ftp://x' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: any) => d.path)).toEqual([
      '/parameters/session',
      '/parameters/track',
      '/parameters/url',
    ]);
    const seed = {
      job_type: 'session',
      // not run here: the seed's URLs are on the internet
      run_at: '2999-01-01T00:00:00Z',
      parameters: {
        event: 'FOSDEM 2025',
        session: 'Forked Communities: Project Re-licensing and Community Impact',
        url: 'https://fosdem.org/2025/schedule/event/...',
        filename: 'Forked-Communities-Project-Relicensing-and-Community-Impact.md',
        track: 'Main-Track-Janson-7',
        day: 'Saturday',
        starttime: '17:00',
        endtime: '17:50',
        speakers: ['Dawn M Foster', 'Brian Proffitt', 'Stephen  Walli', 'Ben Ford'],
        attachments_url: 'https://fosdem.org/.../slides/.../FOSDEM_Fo_HyZR9km.pdf',
        source_language: 'en',
        target_language: 'de',
        use_cache: true,
        extra: { create_archive: true, template: 'Session' },
      },
    };
    const ok = await post('/api/jobs', seed);
    expect(ok.statusCode, ok.body).toBeLessThan(300);
    const wrongType = await post('/api/jobs', {
      ...seed,
      parameters: { ...seed.parameters, extra: { create_archive: 'yes' } },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.details[0].path).toBe('/parameters/create_archive');
  });

  it('refuses path traversal and answers 404 for an unknown template', async () => {
    const trav = await post('/api/session/process', session({ event: '../../../tmp' }));
    expect(trav.statusCode).toBe(400);
    expect(trav.json().error.details).toEqual(
      [{ path: '/event', problem: 'must not contain ".." path segments' }].map((d) => ({
        ...d,
        path: `/parameters${d.path}`,
      })),
    );
    const tpl = await post('/api/session/process', session({ template: 'Sesion' }));
    expect(tpl.statusCode).toBe(404);
    expect(tpl.json().error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(tpl.json().error.message).toContain('Session');
  });
});

describe('POST /api/session/process', () => {
  let jobId: string;

  it('waits and answers the original envelope with data.input and data.output (small archive inlined)', async () => {
    const res = await post('/api/session/process', session());
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.status).toBe('success');
    expect(body.process.main_processor).toBe('SessionProcessor');
    const out = body.data.output;
    jobId = body.data.job_id;
    expect(out.markdown_file).toBe('sessions/City Summit/de/Infrastructure/Community-Networks.md');
    expect(out.markdown_content).toBe(
      readFileSync(
        join(tmp.dir, 'sessions', 'City Summit', 'de', 'Infrastructure', 'Community-Networks.md'),
        'utf8',
      ),
    );
    expect(out.web_text).toContain('# Community Networks');
    expect(body.data.input).toMatchObject({
      event: 'City Summit',
      filename: 'Community-Networks.md',
      template: 'Session',
      create_archive: true,
    });
    expect(out.archive_filename).toBe('Community Networks.zip');
    expect(out.archive_url).toBe(`/api/jobs/${jobId}/download-archive`);
    const zip = unzipSync(Buffer.from(out.archive_data, 'base64'));
    expect(Object.keys(zip).sort()).toEqual([
      'City Summit/de/Infrastructure/Community-Networks.md',
      'README.md',
    ]);
    // the stored job never holds the archive
    const job = (await api.app.inject({ method: 'GET', url: `/api/jobs/${jobId}` })).json();
    expect(JSON.stringify(job)).not.toContain(out.archive_data.slice(0, 40));
  });

  it('serves the archive file at GET /api/jobs/{id}/download-archive', async () => {
    const res = await api.app.inject({ method: 'GET', url: `/api/jobs/${jobId}/download-archive` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toContain('Community Networks.zip');
    expect(Object.keys(unzipSync(res.rawPayload))).toContain('README.md');
  });

  it('gives a large archive by URL only', async () => {
    const res = await post(
      '/api/session/process',
      session({
        session: 'Open Data for Cities',
        url: `${site.base}/talk/2`,
        filename: null,
        attachments_url: `${site.base}/noisy.pdf`,
      }),
    );
    expect(res.statusCode, res.body).toBe(200);
    const out = res.json().data.output;
    expect(out.attachments).toHaveLength(1);
    const job = (await api.store.getJob(res.json().data.job_id))!;
    const size = statSync(
      join(tmp.dir, 'cache', String((job.results as any).archive_path).replace(/^cache\//, '')),
    ).size;
    expect(size).toBeGreaterThan(CAP_MB * 1024 * 1024);
    expect(out.archive_data).toBeNull();
    expect(out.archive_url).toBe(`/api/jobs/${job.job_id}/download-archive`);
  });

  it('answers a failed step as an error naming it (not 200 with "Keine Ausgabedaten")', async () => {
    const res = await post(
      '/api/session/process',
      session({ url: `${site.base}/talk/none`, track: 'Gone' }),
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: 'URL_NOT_FOUND',
      details: { step: 'fetch_page' },
    });
    expect(res.json().error.message).toMatch(/^step fetch_page failed/);
  });

  it('answers 202 with a callback_url, and process-async always', async () => {
    const cb = await post('/api/session/process', {
      ...session({ track: 'Async' }),
      callback_url: 'http://127.0.0.1:9/cb',
      callback_token: 't',
      jobId: 'client-7',
    });
    expect(cb.statusCode).toBe(202);
    expect(cb.json()).toMatchObject({
      status: 'accepted',
      job: { external_id: 'client-7' },
      webhook: { delivered_to: 'http://127.0.0.1:9/cb' },
    });
    const asyncRes = await post('/api/session/process-async', session({ track: 'Async2' }));
    expect(asyncRes.statusCode).toBe(202);
    expect(asyncRes.json().webhook).toBeNull();
    expect((await api.store.getJob(asyncRes.json().job.id))?.job_type).toBe('session');
  });
});

describe('GET /api/session/cached and POST /api/events/{event}/summary', () => {
  it('lists the cached sessions flattened, filtered by event', async () => {
    const res = await api.app.inject({
      method: 'GET',
      url: '/api/session/cached?event=City%20Summit',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('success');
    expect(body.count).toBe(body.sessions.length);
    const s = body.sessions.find((x: any) => x.session === 'Community Networks');
    expect(s).toMatchObject({
      event: 'City Summit',
      track: 'Infrastructure',
      target_language: 'de',
      markdown_file: 'sessions/City Summit/de/Infrastructure/Community-Networks.md',
      speakers: 'Ada Lovelace',
      attachment_count: 0,
    });
    expect(s.cache_id).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof s.structured_title).toBe('string');
    expect(s).not.toHaveProperty('user_id');
    const other = await api.app.inject({
      method: 'GET',
      url: '/api/session/cached?event=Elsewhere',
    });
    expect(other.json()).toEqual({ status: 'success', count: 0, sessions: [] });
  });

  it('summarises an event (query template and language), 404 for an event without sessions', async () => {
    const res = await post('/api/events/City%20Summit/summary?target_language=de', {});
    expect(res.statusCode, res.body).toBe(200);
    const out = res.json().data.output;
    expect(out.template).toBe('Event_eco_social_de');
    expect(out.session_count).toBeGreaterThanOrEqual(2);
    expect(out.markdown_file).toBe('sessions/City Summit/de/event_summary.md');
    expect(out.markdown_content).toContain('# event: Event City Summit');
    const missing = await post('/api/events/Nowhere/summary', {});
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
    const tpl = await post('/api/events/City%20Summit/summary', { template: 'Event_nope' });
    expect(tpl.statusCode).toBe(404);
    expect(tpl.json().error.code).toBe('TEMPLATE_NOT_FOUND');
  });
});
