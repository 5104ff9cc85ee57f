/**
 * Every JSON request body of the seeds (../shared/seeds 000, 001, 002), posted verbatim.
 * Without a `pdf`/`session` job type the answer is the clean 400 UNKNOWN_JOB_TYPE; with a
 * permissive `pdf` type registered the pdf bodies are accepted and unknown keys are kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, registerPermissivePdf, type TestApi } from './api-fixtures.js';

const SEED_000_PDF = `{
  "job_type": "pdf",
  "parameters": {
    "file_path": "C:/data/docs/report.pdf",  
    "url": null,                                 
    "extraction_method": "llm_and_native",     
    "include_images": true,                      
    "template": "Session",                     
    "context": {"document_type": "report", "language": "de"},
    "use_cache": true,
    "force_overwrite": false
  },
  "webhook": {
    "url": "https://example.local/webhook/jobs",
    "headers": {"Authorization": "Bearer <token>"},
    "include_markdown": true,
    "include_metadata": true
  },
  "user_id": "u-123"
}`;

const SEED_000_BATCH = `{
  "batch": {
    "batch_name": "pdf_import_2025_03",
    "jobs": [
      { "job_type": "pdf", "parameters": { "url": "https://example/doc1.pdf", "extraction_method": "native" } },
      { "job_type": "pdf", "parameters": { "file_path": "C:/docs/scan.pdf", "extraction_method": "llm_and_ocr", "include_images": true } }
    ]
  }
}`;

const SEED_001_PDF = `{
  "job_type": "pdf",
  "parameters": {
    "url": "https://example.com/document.pdf",
    "extraction_method": "native",
    "use_cache": true,
    "extra": { "include_images": true }
  }
}`;

const SEED_001_SESSION = `{
  "job_type": "session",
  "parameters": {
    "event": "FOSDEM 2025",
    "session": "Forked Communities: Project Re-licensing and Community Impact",
    "url": "https://fosdem.org/2025/schedule/event/...",
    "filename": "Forked-Communities-Project-Relicensing-and-Community-Impact.md",
    "track": "Main-Track-Janson-7",
    "day": "Saturday",
    "starttime": "17:00",
    "endtime": "17:50",
    "speakers": ["Dawn M Foster", "Brian Proffitt", "Stephen  Walli", "Ben Ford"],
    "attachments_url": "https://fosdem.org/.../slides/.../FOSDEM_Fo_HyZR9km.pdf",
    "source_language": "en",
    "target_language": "de",
    "use_cache": true,
    "extra": { "create_archive": true, "template": "Session" }
  }
}`;

const SEED_001_BATCH = `{
  "batch_name": "import_batch",
  "jobs": [
    { "job_type": "pdf", "parameters": { "url": "https://example.com/a.pdf", "extraction_method": "native" } },
    { "job_type": "session", "parameters": { "event": "FOSDEM 2025", "session": "...", "url": "https://fosdem.org/...", "target_language": "de" } }
  ]
}`;

const SEED_002_CURL = `{
    "job_type": "pdf",
    "parameters": {
      "filename": "/path/to/file.pdf",
      "extraction_method": "combined"
    }
  }`;

const SEED_002_WEBHOOK = `{
  "job_type": "pdf",
  "parameters": {
    "filename": "/path/to/file.pdf",
    "webhook": {
      "url": "https://example.com/webhook",
      "token": "webhook_auth_token",
      "jobId": "client_job_id"
    }
  }
}`;

const SEED_002_CUSTOM = `{
    "job_type": "custom",
    "parameters": {
      "input": "data"
    }
  }`;

const JOBS: [string, string, string][] = [
  ['000 pdf', '/api/jobs', SEED_000_PDF],
  ['001 pdf', '/api/jobs', SEED_001_PDF],
  ['001 session', '/api/jobs', SEED_001_SESSION],
  ['002 curl', '/api/jobs/', SEED_002_CURL],
  ['002 webhook in parameters', '/api/jobs/', SEED_002_WEBHOOK],
  ['002 custom', '/api/jobs/', SEED_002_CUSTOM],
  ['000 batch (wrapped)', '/api/batches', SEED_000_BATCH],
  ['000 batch (wrapped) via /api/jobs/batch', '/api/jobs/batch', SEED_000_BATCH],
  ['001 batch (flat)', '/api/jobs/batch', SEED_001_BATCH],
  ['001 batch (flat) via /api/batches', '/api/batches', SEED_001_BATCH],
];

const post = (t: TestApi, url: string, body: string) =>
  t.app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json' } });

describe('seed bodies without the pdf/session types', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(async () => t.close());

  it.each(JOBS)('%s → clean 400 UNKNOWN_JOB_TYPE, nothing stored', async (_name, url, body) => {
    const r = await post(t, url, body);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ status: 'error', error: { code: 'UNKNOWN_JOB_TYPE' } });
    expect(r.json().error.message).toMatch(/job_type/);
    expect((await t.store.stats()).by_status).toEqual([]);
  });
});

describe('seed bodies with a permissive pdf type', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi({ register: registerPermissivePdf });
  });
  afterAll(async () => t.close());

  it('000 pdf: accepted, webhook secrets stored but never returned, user_id kept', async () => {
    const r = await post(t, '/api/jobs', SEED_000_PDF);
    expect(r.statusCode).toBe(202);
    expect(r.body).not.toContain('Bearer <token>');
    const stored = await t.store.getJob(r.json().data.job_id);
    expect(stored?.user_id).toBe('u-123');
    expect(stored?.parameters).toEqual(JSON.parse(SEED_000_PDF).parameters);
    expect(stored?.webhook?.headers).toEqual({ Authorization: 'Bearer <token>' });
  });

  it('001 pdf: unknown key `extra` kept as given', async () => {
    const r = await post(t, '/api/jobs', SEED_001_PDF);
    expect(r.statusCode).toBe(202);
    const stored = await t.store.getJob(r.json().data.job_id);
    expect(stored?.parameters.extra).toEqual({ include_images: true });
  });

  it('002 bodies: accepted; the webhook inside parameters becomes the job webhook with external id', async () => {
    expect((await post(t, '/api/jobs/', SEED_002_CURL)).statusCode).toBe(202);
    const r = await post(t, '/api/jobs/', SEED_002_WEBHOOK);
    expect(r.statusCode).toBe(202);
    expect(r.body).not.toContain('webhook_auth_token');
    const stored = await t.store.getJob(r.json().data.job_id);
    expect(stored?.external_id).toBe('client_job_id');
    expect(stored?.webhook).toMatchObject({ url: 'https://example.com/webhook', token: 'webhook_auth_token' });
    expect(stored?.parameters).toEqual({ filename: '/path/to/file.pdf' });
  });

  it('000 batch (wrapped): accepted', async () => {
    const r = await post(t, '/api/batches', SEED_000_BATCH);
    expect(r.statusCode).toBe(202);
    expect(r.json().data.batch.batch_name).toBe('pdf_import_2025_03');
    expect(r.json().data.job_ids).toHaveLength(2);
  });

  it('001 batch (flat): still 400 because `session` is not registered, nothing stored', async () => {
    const before = (await t.store.listJobs({}, { limit: 1000 })).items.length;
    const r = await post(t, '/api/jobs/batch', SEED_001_BATCH);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details[0].path).toBe('/jobs/1/job_type');
    expect((await t.store.listJobs({}, { limit: 1000 })).items.length).toBe(before);
  });
});
