import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countJobs, createTestApi, until, type TestApi } from './api-fixtures.js';

 
type Json = Record<string, any>;

describe('job API', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi({ config: { server: { body_limit_mb: 0.05 } } });
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as Json });

  it('enqueues a job with the seeds envelope (202) and keeps unknown parameter keys', async () => {
    const r = await post('/api/jobs', { job_type: 'echo', parameters: { message: 'hi', extra: { include_images: true }, surprise: 1 } });
    expect(r.statusCode).toBe(202);
    const b = r.json() as Json;
    expect(b.status).toBe('success');
    expect(b.request).toMatchObject({ processor: 'job-enqueue', parameters: { job_count: 1 } });
    expect(typeof b.request.timestamp).toBe('string');
    expect(b.process).toMatchObject({ main_processor: 'SecretaryJobWorker', llm_info: { requests: [] } });
    expect(b.data.job_id).toMatch(/^job-/);
    expect(b.data.job_ids).toEqual([b.data.job_id]);
    expect(b.data.job.status).toBe('pending');
    expect(b.data.created).toBe(true);
    const stored = await t.store.getJob(b.data.job_id);
    expect(stored?.parameters).toEqual({ message: 'hi', extra: { include_images: true }, surprise: 1 });
  });

  it('answers /api/jobs/ with a trailing slash too', async () => {
    expect((await post('/api/jobs/', { job_type: 'echo', parameters: {} })).statusCode).toBe(202);
    expect((await t.app.inject({ method: 'GET', url: '/api/jobs/' })).statusCode).toBe(200);
  });

  it('rejects invalid parameters with INVALID_PARAMETERS details and stores nothing', async () => {
    const before = await countJobs(t.store);
    const r = await post('/api/jobs', { job_type: 'echo', parameters: { sleep_ms: 'slow', steps: -1 } });
    expect(r.statusCode).toBe(400);
    const b = r.json() as Json;
    expect(b.status).toBe('error');
    expect(b.error.code).toBe('INVALID_PARAMETERS');
    expect(b.error.details.map((d: Json) => d.path)).toContain('/parameters/sleep_ms');
    expect(b.error.details.every((d: Json) => typeof d.problem === 'string')).toBe(true);
    expect(await countJobs(t.store)).toBe(before);
  });

  it('rejects an unregistered job_type with UNKNOWN_JOB_TYPE', async () => {
    const r = await post('/api/jobs', { job_type: 'nope', parameters: {} });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('UNKNOWN_JOB_TYPE');
    const missing = await post('/api/jobs', { parameters: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('INVALID_PARAMETERS');
  });

  it('rejects bad top-level fields and bad webhooks', async () => {
    for (const body of [
      { job_type: 'echo', parameters: [] },
      { job_type: 'echo', webhook: { url: 'ftp://x' } },
      { job_type: 'echo', webhook: { url: 'http://x', headers: { a: { b: 1 } } } },
      { job_type: 'echo', priority: 1.5 },
      { job_type: 'echo', run_at: 'tomorrow' },
      { job_type: 'echo', external_id: '' },
      { job_type: 'echo', batch_id: 'batch-missing' },
    ]) {
      const r = await post('/api/jobs', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().error.code).toBe('INVALID_PARAMETERS');
    }
  });

  it('is idempotent on external_id, jobId and webhook.jobId (200 created:false)', async () => {
    const a = await post('/api/jobs', { job_type: 'echo', external_id: 'client-1' });
    expect(a.statusCode).toBe(202);
    const b = await post('/api/jobs', { job_type: 'echo', external_id: 'client-1' });
    expect(b.statusCode).toBe(200);
    expect(b.json().data.created).toBe(false);
    expect(b.json().data.job_id).toBe(a.json().data.job_id);
    const c = await post('/api/jobs', { job_type: 'echo', jobId: 'client-2' });
    expect(c.json().data.external_id).toBe('client-2');
    const d = await post('/api/jobs', { job_type: 'echo', webhook: { url: 'https://example.org/cb', jobId: 'client-3' } });
    expect(d.json().data.external_id).toBe('client-3');
    const e = await post('/api/jobs', { job_type: 'echo', parameters: { webhook: { url: 'https://example.org/cb', token: 't0ken', jobId: 'client-4' } } });
    expect(e.statusCode).toBe(202);
    const stored = await t.store.getJob(e.json().data.job_id);
    expect(stored?.external_id).toBe('client-4');
    expect(stored?.webhook?.token).toBe('t0ken');
    expect(stored?.parameters.webhook).toBeUndefined();
  });

  it('never returns webhook tokens or headers', async () => {
    const r = await post('/api/jobs', {
      job_type: 'echo',
      parameters: { callback_token: 'p-secret' },
      webhook: { url: 'https://example.org/cb', token: 'w-secret', headers: { Authorization: 'Bearer h-secret' } },
    });
    // credentials inside a webhook URL are refused at enqueue: they belong in token or headers
    const withCreds = await post('/api/jobs', { job_type: 'echo', webhook: { url: 'https://user:pw@example.org/cb' } });
    expect(withCreds.statusCode).toBe(400);
    expect(withCreds.body).not.toContain('user:pw');
    const id = r.json().data.job_id as string;
    for (const res of [r, await t.app.inject({ method: 'GET', url: `/api/jobs/${id}` }), await t.app.inject({ method: 'GET', url: '/api/jobs?limit=100' })]) {
      expect(res.body).not.toContain('w-secret');
      expect(res.body).not.toContain('h-secret');
      expect(res.body).not.toContain('p-secret');
      expect(res.body).not.toContain('user:pw');
    }
    const job = (await t.app.inject({ method: 'GET', url: `/api/jobs/${id}` })).json().data;
    expect(job.webhook.url).toBe('https://example.org/cb');
    expect(job.webhook.token).toBe('[redacted]');
    expect(job.webhook.headers).toEqual({ Authorization: '[redacted]' });
    expect(Array.isArray(job.logs)).toBe(true);
    expect(Array.isArray(job.webhook_deliveries)).toBe(true);
  });

  it('GET /api/jobs/{id}: 404 JSON for unknown ids', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/api/jobs/job-nope' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });
  });

  it('lists with filters and cursor pagination', async () => {
    for (let i = 0; i < 7; i++) await post('/api/jobs', { job_type: 'echo', user_id: 'pager', parameters: { i } });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/api/jobs?user_id=pager&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await t.app.inject({ method: 'GET', url: q });
      expect(r.statusCode).toBe(200);
      const d = r.json().data as Json;
      seen.push(...d.jobs.map((j: Json) => j.job_id));
      expect(d.jobs.every((j: Json) => j.logs === undefined)).toBe(true);
      cursor = d.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect(pages).toBe(3);
    const byStatus = await t.app.inject({ method: 'GET', url: '/api/jobs?status=pending,processing&job_type=echo&limit=1000' });
    expect(byStatus.json().data.jobs.every((j: Json) => j.status === 'pending')).toBe(true);
    const ext = await t.app.inject({ method: 'GET', url: '/api/jobs?external_id=client-1' });
    expect(ext.json().data.jobs).toHaveLength(1);
    expect((await t.app.inject({ method: 'GET', url: '/api/jobs?status=bogus' })).json().error.code).toBe('INVALID_PARAMETERS');
    expect((await t.app.inject({ method: 'GET', url: '/api/jobs?limit=0' })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/api/jobs?limit=abc' })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/api/jobs?cursor=garbage' })).statusCode).toBe(400);
  });

  it('cancels, retries and deletes with 404/409 as fits', async () => {
    const id = (await post('/api/jobs', { job_type: 'echo' })).json().data.job_id as string;
    const retryPending = await post(`/api/jobs/${id}/retry`, {});
    expect(retryPending.statusCode).toBe(409);
    expect(retryPending.json().error.code).toBe('CONFLICT');
    const c = await post(`/api/jobs/${id}/cancel`, { reason: 'test' });
    expect(c.statusCode).toBe(200);
    expect(c.json().data.status).toBe('cancelled');
    expect(c.json().data.error.code).toBe('CANCELLED');
    const again = await t.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` });
    expect(again.statusCode).toBe(409);
    const retry = await post(`/api/jobs/${id}/retry`, {});
    expect(retry.statusCode).toBe(200);
    expect(retry.json().data.status).toBe('pending');
    await post(`/api/jobs/${id}/cancel`, {});
    const del = await t.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    expect(del.statusCode).toBe(200);
    expect(del.json().data).toEqual({ job_id: id, deleted: true });
    for (const [method, url] of [
      ['DELETE', `/api/jobs/${id}`],
      ['POST', `/api/jobs/${id}/cancel`],
      ['POST', `/api/jobs/${id}/retry`],
    ] as const) {
      expect((await t.app.inject({ method, url })).statusCode).toBe(404);
    }
  });

  it('refuses to delete a running job (409)', async () => {
    const id = (await post('/api/jobs', { job_type: 'echo' })).json().data.job_id as string;
    const claimed = await t.store.claim({ owner: 'w', limit: 100, types: { echo: 100 }, leaseMs: 30_000 });
    expect(claimed.some((j) => j.job_id === id)).toBe(true);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    expect(del.statusCode).toBe(409);
    await until(async () => (await post(`/api/jobs/${id}/cancel`, {})).statusCode === 200);
  });

  it('answers malformed JSON, wrong content type, too large bodies and unknown routes with JSON', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: '{"job_type":', headers: { 'content-type': 'application/json' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status: 'error', error: { code: 'INVALID_JSON' } });
    const xml = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.statusCode).toBe(400);
    expect(xml.json().status).toBe('error');
    const big = await post('/api/jobs', { job_type: 'echo', parameters: { message: 'x'.repeat(100_000) } });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const nf = await t.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.code).toBe('NOT_FOUND');
    const badUrl = await t.app.inject({ method: 'GET', url: '/api/jobs/%zz' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().status).toBe('error');
  });

  it('adds webhook-shaped fields to results of completed jobs (poll fallback) without replacing stored keys', async () => {
    const t2 = await createTestApi({
      worker: true,
      register: (r) =>
        r.register({
          type: 'shaped',
          handler: async () => ({ markdown_content: 'stored' }),
          callbackData: (job) => ({ extracted_text: 'flat text', markdown_content: 'from callback', job_id: job.job_id }),
        }),
    });
    try {
      const id = (await t2.app.inject({ method: 'POST', url: '/api/jobs', payload: { job_type: 'shaped' } })).json().data.job_id as string;
      await until(async () => (await t2.store.getJob(id))?.status === 'completed');
      const job = (await t2.app.inject({ method: 'GET', url: `/api/jobs/${id}` })).json().data as Json;
      expect(job.results).toMatchObject({ extracted_text: 'flat text', markdown_content: 'stored', job_id: id });
    } finally {
      await t2.close();
    }
  });
});
