import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countJobs, createTestApi, until, type TestApi } from './api-fixtures.js';

 
type Json = Record<string, any>;

describe('batch API', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as Json });

  it('creates a batch from a flat body (POST /api/jobs/batch)', async () => {
    const r = await post('/api/jobs/batch', { batch_name: 'flat', jobs: [{ job_type: 'echo', parameters: { i: 1 } }, { job_type: 'echo' }] });
    expect(r.statusCode).toBe(202);
    const b = r.json() as Json;
    expect(b.status).toBe('success');
    expect(b.request.parameters.job_count).toBe(2);
    expect(b.data.batch_id).toMatch(/^batch-/);
    expect(b.data.job_ids).toHaveLength(2);
    expect(b.data.batch).toMatchObject({ batch_name: 'flat', total_jobs: 2, pending_jobs: 2 });
  });

  it('creates a batch from a wrapped body (POST /api/batches) with a redacted webhook', async () => {
    const r = await post('/api/batches', {
      batch: { batch_name: 'wrapped', jobs: [{ job_type: 'echo' }], webhook: { url: 'https://example.org/b', token: 'b-secret' } },
    });
    expect(r.statusCode).toBe(202);
    expect(r.body).not.toContain('b-secret');
    expect(r.json().data.batch.batch_name).toBe('wrapped');
  });

  it('validates a batch as a whole: one bad job → 400, nothing stored', async () => {
    const before = await countJobs(t.store);
    const bad = await post('/api/jobs/batch', { jobs: [{ job_type: 'echo' }, { job_type: 'echo', parameters: { steps: 'x' } }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_PARAMETERS');
    expect(bad.json().error.details[0].path).toBe('/jobs/1/parameters/steps');
    const unknown = await post('/api/batches', { batch: { jobs: [{ job_type: 'echo' }, { job_type: 'zzz' }] } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('UNKNOWN_JOB_TYPE');
    expect(unknown.json().error.details[0].path).toBe('/jobs/1/job_type');
    const noJobs = await post('/api/batches', { batch_name: 'x' });
    expect(noJobs.statusCode).toBe(400);
    const dup = await post('/api/batches', { jobs: [{ job_type: 'echo', external_id: 'same' }, { job_type: 'echo', external_id: 'same' }] });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('DUPLICATE_EXTERNAL_ID');
    expect(await countJobs(t.store)).toBe(before);
  });

  it('reads a batch under all three paths, its jobs, and lists batches', async () => {
    const created = (await post('/api/batches', { batch_name: 'read', jobs: [{ job_type: 'echo' }, { job_type: 'echo' }, { job_type: 'echo' }] })).json().data;
    for (const p of ['/api/batches/', '/api/batch/', '/api/jobs/batch/']) {
      const r = await t.app.inject({ method: 'GET', url: `${p}${created.batch_id}` });
      expect(r.statusCode, p).toBe(200);
      expect(r.json().data.batch_id).toBe(created.batch_id);
      const slash = await t.app.inject({ method: 'GET', url: `${p}${created.batch_id}/` });
      expect(slash.statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: `${p}batch-nope` })).statusCode).toBe(404);
    }
    const jobs = await t.app.inject({ method: 'GET', url: `/api/batches/${created.batch_id}/jobs?limit=2` });
    expect(jobs.statusCode).toBe(200);
    expect(jobs.json().data.jobs).toHaveLength(2);
    const rest = await t.app.inject({ method: 'GET', url: `/api/batches/${created.batch_id}/jobs?cursor=${jobs.json().data.next_cursor}` });
    expect(rest.json().data.jobs).toHaveLength(1);
    expect((await t.app.inject({ method: 'GET', url: '/api/batches/batch-nope/jobs' })).statusCode).toBe(404);
    const list = await t.app.inject({ method: 'GET', url: '/api/batches?limit=2' });
    expect(list.statusCode).toBe(200);
    expect(list.json().data.batches).toHaveLength(2);
    expect(list.json().data.next_cursor).toBeTruthy();
    expect((await t.app.inject({ method: 'GET', url: '/api/batches?status=pending' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/batches?status=weird' })).statusCode).toBe(400);
  });

  it('counters follow the jobs when a worker runs them', async () => {
    const w = await createTestApi({ worker: true });
    try {
      const id = (await w.app.inject({ method: 'POST', url: '/api/batches', payload: { jobs: [{ job_type: 'echo' }, { job_type: 'echo' }] } })).json().data.batch_id;
      await until(async () => (await w.app.inject({ method: 'GET', url: `/api/batches/${id}` })).json().data.status === 'completed');
      const b = (await w.app.inject({ method: 'GET', url: `/api/batch/${id}` })).json().data;
      expect(b).toMatchObject({ completed_jobs: 2, pending_jobs: 0, processing_jobs: 0 });
    } finally {
      await w.close();
    }
  });
});
