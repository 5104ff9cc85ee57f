import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, StartupError } from '../../src/api/server.js';
import type { Runtime } from '../../src/cli/runtime.js';
import { createTestApi, type TestApi } from './api-fixtures.js';

const ADMIN_KEY = 'admin-key-0123456789';
const ALICE_KEY = 'alice-key-0123456789';
const BOB_KEY = 'bob-key-0123456789';

describe('auth with keys', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi({
      keys: [{ key: ADMIN_KEY }, { key: ALICE_KEY, user_id: 'alice' }, { key: BOB_KEY, user_id: 'bob' }],
    });
  });
  afterAll(async () => t.close());

  const as = (key: string | null, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, header: 'bearer' | 'x' = 'bearer') =>
    t.app.inject({
      method,
      url,
      ...(payload ? { payload } : {}),
      headers: key === null ? {} : header === 'bearer' ? { authorization: `Bearer ${key}` } : { 'x-secretary-api-key': key },
    });

  it('fails closed: no key, wrong key, malformed headers → 401 envelope', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-key-000000' }, { authorization: 'Basic abc' }, { 'x-secretary-api-key': '' }, { authorization: `Bearer ${ADMIN_KEY}x` }]) {
      const r = await t.app.inject({ method: 'GET', url: '/api/jobs', headers });
      expect(r.statusCode).toBe(401);
      expect(r.json()).toMatchObject({ status: 'error', error: { code: 'UNAUTHORIZED' } });
    }
    expect((await as(null, 'POST', '/api/jobs', { job_type: 'echo' })).statusCode).toBe(401);
    expect((await as(null, 'GET', '/metrics')).statusCode).toBe(401);
  });

  it('accepts Bearer and X-Secretary-Api-Key', async () => {
    expect((await as(ADMIN_KEY, 'GET', '/api/jobs')).statusCode).toBe(200);
    expect((await as(ADMIN_KEY, 'GET', '/api/jobs', undefined, 'x')).statusCode).toBe(200);
    expect((await as(ADMIN_KEY, 'GET', '/metrics')).statusCode).toBe(200);
  });

  it('leaves health and the OpenAPI UI open', async () => {
    for (const url of ['/api/health', '/api/health/live', '/api/doc/', '/api/swagger.json', '/api/doc/json']) {
      const r = await as(null, 'GET', url);
      expect(r.statusCode, url).toBe(200);
    }
    const spec = (await as(null, 'GET', '/api/swagger.json')).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/jobs', '/api/jobs/{id}', '/api/batches', '/api/jobs/{id}/stream']));
  });

  it('scopes user keys to their own jobs and batches; admins see all', async () => {
    const a = (await as(ALICE_KEY, 'POST', '/api/jobs', { job_type: 'echo', user_id: 'mallory' })).json().data;
    expect(a.job.user_id).toBe('alice');
    const b = (await as(BOB_KEY, 'POST', '/api/jobs', { job_type: 'echo' })).json().data;
    const ab = (await as(ALICE_KEY, 'POST', '/api/batches', { jobs: [{ job_type: 'echo' }] })).json().data;
    expect((await as(ALICE_KEY, 'GET', `/api/jobs/${a.job_id}`)).statusCode).toBe(200);
    expect((await as(BOB_KEY, 'GET', `/api/jobs/${a.job_id}`)).statusCode).toBe(404);
    expect((await as(BOB_KEY, 'POST', `/api/jobs/${a.job_id}/cancel`)).statusCode).toBe(404);
    expect((await as(BOB_KEY, 'DELETE', `/api/jobs/${a.job_id}`)).statusCode).toBe(404);
    expect((await as(BOB_KEY, 'GET', `/api/jobs/${a.job_id}/stream`)).statusCode).toBe(404);
    expect((await as(BOB_KEY, 'GET', `/api/jobs/${a.job_id}/download-archive`)).statusCode).toBe(404);
    expect((await as(BOB_KEY, 'GET', `/api/batches/${ab.batch_id}`)).statusCode).toBe(404);
    expect((await as(ALICE_KEY, 'GET', `/api/batches/${ab.batch_id}`)).statusCode).toBe(200);
    const aliceList = (await as(ALICE_KEY, 'GET', '/api/jobs?limit=1000')).json().data.jobs as { user_id: string }[];
    expect(aliceList.length).toBe(2);
    expect(aliceList.every((j) => j.user_id === 'alice')).toBe(true);
    const bobBatches = (await as(BOB_KEY, 'GET', '/api/batches')).json().data.batches;
    expect(bobBatches).toHaveLength(0);
    const all = (await as(ADMIN_KEY, 'GET', '/api/jobs?limit=1000')).json().data.jobs as { job_id: string }[];
    expect(all.map((j) => j.job_id)).toEqual(expect.arrayContaining([a.job_id, b.job_id]));
    expect((await as(ADMIN_KEY, 'GET', `/api/jobs/${a.job_id}`)).statusCode).toBe(200);
    // another user's external id is not revealed
    await as(ALICE_KEY, 'POST', '/api/jobs', { job_type: 'echo', external_id: 'alice-ext' });
    const steal = await as(BOB_KEY, 'POST', '/api/jobs', { job_type: 'echo', external_id: 'alice-ext' });
    expect(steal.statusCode).toBe(409);
    expect(steal.body).not.toContain('job-');
  });

  it('accepts ?access_token= only on SSE streams', async () => {
    const id = (await as(ADMIN_KEY, 'POST', '/api/jobs', { job_type: 'echo' })).json().data.job_id;
    await as(ADMIN_KEY, 'POST', `/api/jobs/${id}/cancel`);
    const s = await t.app.inject({ method: 'GET', url: `/api/jobs/${id}/stream?access_token=${ADMIN_KEY}` });
    expect(s.statusCode).toBe(200);
    expect(s.headers['content-type']).toMatch(/text\/event-stream/);
    expect(s.body).toContain('event: error');
    expect((await t.app.inject({ method: 'GET', url: `/api/jobs/${id}?access_token=${ADMIN_KEY}` })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: `/api/jobs/${id}/stream?access_token=wrong-000000000` })).statusCode).toBe(401);
  });
});

describe('auth without keys', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(async () => t.close());

  it('serves loopback clients and refuses others', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/jobs', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/jobs', remoteAddress: '::1' })).statusCode).toBe(200);
    const remote = await t.app.inject({ method: 'GET', url: '/api/jobs', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(401);
    expect(remote.json().error.message).toMatch(/SECRETARY_SERVICE_API_KEY/);
    expect((await t.app.inject({ method: 'GET', url: '/api/health', remoteAddress: '203.0.113.9' })).statusCode).toBe(200);
  });

  it('startServer refuses a public address without a key, naming what to set', async () => {
    const rt = { config: t.config, logger: t.app.log, store: t.store, registry: t.registry, worker: null } as unknown as Runtime;
    await expect(startServer(rt, { host: '0.0.0.0', port: 0 })).rejects.toThrow(StartupError);
    await expect(startServer(rt, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/SECRETARY_SERVICE_API_KEY.*auth\.api_keys/);
  });
});
