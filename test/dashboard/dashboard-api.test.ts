/**
 * The dashboard's server side over real HTTP: the page and its assets are open while every
 * API route stays closed, `GET /api/events` streams job and batch changes scoped to the
 * caller, `GET /api/stats` reports queue depth and endings per minute.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, until, type TestApi } from '../api/api-fixtures.js';
import { openSse } from './sse-client.js';

const ADMIN = 'admin-key-0123456789';
const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-0123456789';

const listen = async (t: TestApi): Promise<string> => {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
};

describe('dashboard routes with API keys', () => {
  let t: TestApi;
  let base: string;
  const get = (path: string, key?: string, extra: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra } });
  const post = async (path: string, body: unknown, key: string) => {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await r.json()) as any;
  };

  /** A GET with the path sent as written (fetch would resolve dot segments first). */
  const rawGet = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}/`, { path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    t = await createTestApi({
      worker: true,
      keys: [{ key: ADMIN }, { key: ALICE, user_id: 'alice' }, { key: BOB, user_id: 'bob' }],
      config: { server: { sse_heartbeat_sec: 0.2 } },
    });
    base = await listen(t);
  });
  afterAll(async () => t.close());

  it('serves the page and its assets without a key, with a strict CSP', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('dashboard/app.js');
    for (const asset of ['app.js', 'api.js', 'jobs-view.js', 'job-panel.js', 'dashboard.css', 'favicon.svg']) {
      const r = await get(`/dashboard/${asset}`);
      expect(r.status, asset).toBe(200);
      expect((await r.text()).length, asset).toBeGreaterThan(50);
    }
    expect((await get('/dashboard/app.js')).headers.get('content-type')).toMatch(/javascript/);
  });

  it('leaves every API route closed: no key, wrong key, tricks through the open paths', async () => {
    for (const path of ['/api/jobs', '/api/stats', '/api/events', '/api/batches', '/metrics']) {
      expect((await get(path)).status, path).toBe(401);
      expect((await get(path, 'wrong-key-000000')).status, path).toBe(401);
    }
    // the key in the query opens only the SSE routes, never the JSON API
    expect((await get(`/api/jobs?access_token=${ADMIN}`)).status).toBe(401);
    expect((await get(`/api/stats?access_token=${ADMIN}`)).status).toBe(401);
    // paths that start like an open asset but lead elsewhere stay closed and serve no data
    for (const path of ['/dashboard/../api/jobs', '/dashboard/%2e%2e/api/jobs', '/dashboard/..%2fapi%2fjobs', '/dashboard/x/../../api/jobs', '/dashboard/app.js/../../api/stats']) {
      const r = await rawGet(path);
      expect([401, 403, 404], path).toContain(r.status);
      expect(r.body, path).not.toContain('"jobs"');
    }
    // a missing asset is a JSON 404, not a directory listing
    expect((await get('/dashboard/nope.js')).status).toBe(404);
    expect((await get('/dashboard/')).status).toBe(401);
  });

  it('streams job changes to /api/events with ?access_token=, through to completed', async () => {
    const conn = await openSse(`${base}/api/events?access_token=${ADMIN}&coalesce_ms=0`);
    try {
      expect(conn.status).toBe(200);
      expect(conn.contentType).toMatch(/^text\/event-stream/);
      await conn.waitFor((e) => e.event === 'ready');
      const { data } = await post('/api/jobs', { job_type: 'echo', parameters: { sleep_ms: 300, steps: 3 } }, ADMIN);
      const id = data.job_id as string;
      await conn.waitFor((e) => e.event === 'job' && e.data.job_id === id && e.data.status === 'pending');
      const progress = await conn.waitFor((e) => e.event === 'job' && e.data.job_id === id && e.data.status === 'processing' && e.data.progress?.percent > 10);
      expect(progress.data).toMatchObject({ job_type: 'echo', batch_id: null });
      const done = await conn.waitFor((e) => e.event === 'job' && e.data.job_id === id && e.data.status === 'completed');
      const versions = conn.events.filter((e) => e.event === 'job' && e.data.job_id === id).map((e) => e.data.version as number);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
      expect(done.data.version).toBe(versions[versions.length - 1]);
      await until(() => conn.heartbeats > 0, 3000);
    } finally {
      conn.close();
    }
  });

  it('scopes /api/events to the caller like the list routes; batch changes arrive too', async () => {
    const alice = await openSse(`${base}/api/events`, { authorization: `Bearer ${ALICE}` });
    const admin = await openSse(`${base}/api/events?access_token=${ADMIN}`);
    try {
      await alice.waitFor((e) => e.event === 'ready');
      await admin.waitFor((e) => e.event === 'ready');
      const bobJob = (await post('/api/jobs', { job_type: 'echo' }, BOB)).data.job_id as string;
      const aliceJob = (await post('/api/jobs', { job_type: 'echo' }, ALICE)).data.job_id as string;
      const batch = (await post('/api/batches', { jobs: [{ job_type: 'echo' }] }, ALICE)).data;
      await alice.waitFor((e) => e.event === 'job' && e.data.job_id === aliceJob && e.data.status === 'completed');
      await alice.waitFor((e) => e.event === 'batch' && e.data.batch_id === batch.batch_id && e.data.status === 'completed');
      await admin.waitFor((e) => e.event === 'job' && e.data.job_id === bobJob && e.data.status === 'completed');
      await admin.waitFor((e) => e.event === 'job' && e.data.job_id === aliceJob && e.data.status === 'completed');
      // bob's job finished before alice's (FIFO); alice's stream never saw it
      expect(alice.events.some((e) => e.event === 'job' && e.data.job_id === bobJob)).toBe(false);
      expect(alice.events.every((e) => e.event !== 'job' || e.data.user_id === undefined)).toBe(true);
    } finally {
      alice.close();
      admin.close();
    }
  });

  it('sends one resync instead of a flood of job events (unless coalesce_ms=0)', async () => {
    const coalesced = await openSse(`${base}/api/events?access_token=${ADMIN}`);
    const every = await openSse(`${base}/api/events?access_token=${ADMIN}&coalesce_ms=0`);
    try {
      await coalesced.waitFor((e) => e.event === 'ready');
      await every.waitFor((e) => e.event === 'ready');
      const { batch_id, job_ids } = (await post('/api/batches', { jobs: Array.from({ length: 300 }, () => ({ job_type: 'echo' })) }, ADMIN)).data;
      expect(job_ids).toHaveLength(300);
      const resync = await coalesced.waitFor((e) => e.event === 'resync');
      expect(resync.data.changes).toBeGreaterThan(100);
      await every.waitFor((e) => e.event === 'batch' && e.data.batch_id === batch_id && e.data.status === 'completed', 15_000);
      const completed = new Set(every.events.filter((e) => e.event === 'job' && e.data.status === 'completed').map((e) => e.data.job_id));
      expect(job_ids.every((id: string) => completed.has(id))).toBe(true);
      expect(every.events.some((e) => e.event === 'resync')).toBe(false);
      expect(coalesced.events.filter((e) => e.event === 'job').length).toBeLessThan(300);
    } finally {
      coalesced.close();
      every.close();
    }
  });

  it('reports queue depth, endings per minute and the worker at /api/stats', async () => {
    for (let i = 0; i < 3; i++) await post('/api/jobs', { job_type: 'echo' }, ADMIN);
    await post('/api/jobs', { job_type: 'echo', parameters: { fail_with: 'unrecoverable' } }, ADMIN);
    await until(async () => (await t.store.listJobs({ status: ['pending', 'processing'] })).items.length === 0, 8000);
    const r = await get('/api/stats?minutes=15', ADMIN);
    expect(r.status).toBe(200);
    const s = (await r.json()) as any;
    const stats = await t.store.stats();
    const count = (status: string) => stats.by_status.filter((x) => x.status === status).reduce((n, x) => n + x.count, 0);
    expect(s.data.totals).toMatchObject({ completed: count('completed'), failed: count('failed'), pending: 0, processing: 0 });
    expect(count('completed')).toBeGreaterThanOrEqual(3);
    expect(count('failed')).toBeGreaterThanOrEqual(1);
    expect(s.data.queue).toEqual({ pending: 0, ready: 0, scheduled: 0, processing: 0 });
    expect(s.data.worker).toMatchObject({ id: t.worker!.workerId, running_jobs: 0 });
    expect(s.data.store).toEqual({ name: 'sqlite', cross_process_events: false });
    // one bucket per minute, oldest first; every job of this app ended inside the window, once
    const buckets = s.data.series.throughput as { t: string; completed: number; failed: number }[];
    expect(buckets).toHaveLength(15);
    expect(buckets.map((b) => b.t)).toEqual([...buckets.map((b) => b.t)].sort());
    expect(buckets.reduce((n, b) => n + b.completed, 0)).toBe(count('completed'));
    expect(buckets.reduce((n, b) => n + b.failed, 0)).toBe(count('failed'));
    expect(s.data.series.queue.length).toBeGreaterThan(0);
    // a user key reads the same store-wide numbers (like /metrics); bad windows are refused
    expect((await get('/api/stats', ALICE)).status).toBe(200);
    expect((await get('/api/stats?minutes=0', ADMIN)).status).toBe(400);
  });
});

describe('dashboard switched off', () => {
  it('serves no page with server.dashboard: false', async () => {
    const t = await createTestApi({ config: { server: { dashboard: false } } });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: '/dashboard/app.js' })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: '/api/stats' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
