/** Webhook delivery end to end: real worker, real SQLite outbox, real HTTP receiver. */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { completedBody } from '../../src/webhooks/payloads.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import type { Job } from '../../src/core/job.js';
import { FINAL_MARKERS, hook, isTerminalBody, ofJob, sleep, startHarness, until, type Harness } from './harness.js';
import { startReceiver, type Receiver, type WireJson } from './receiver.js';

let h: Harness | null = null;
let rx: Receiver | null = null;
afterEach(async () => {
  await h?.close();
  await rx?.close();
  h = null;
  rx = null;
});

const expectProgressShape = (body: WireJson, jobId: string): void => {
  expect(['completed', 'failed', 'error', 'template_completed']).not.toContain(body.phase);
  expect(typeof body.phase).toBe('string');
  expect(typeof body.progress).toBe('number');
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(0);
  expect(body.process.id).toBe(jobId);
  expect(body.job.id).toBe(jobId);
  expect('external_id' in body.job).toBe(true);
  expect(body.status).toBeUndefined();
  expect(body.error).toBeUndefined();
  for (const k of FINAL_MARKERS) expect(body.data?.[k]).toBeUndefined();
  for (const k of Object.keys(body)) expect(k.endsWith('_url')).toBe(false);
};

describe('webhook delivery', () => {
  it('sends progress in order, then exactly one completed callback, and nothing after it', async () => {
    rx = await startReceiver();
    h = await startHarness();
    const { job } = await h.store.createJob({
      job_type: 'echo',
      parameters: { steps: 4, sleep_ms: 3200, message: 'hi' },
      external_id: 'client-42',
      webhook: hook(rx.url('/api/external/jobs/client-42')),
    });
    await until(() => ofJob(rx!.requests, job.job_id).some(isTerminalBody), 15_000, 'terminal callback');
    await sleep(1200);
    const reqs = ofJob(rx.requests, job.job_id);
    const terminal = reqs.filter(isTerminalBody);
    expect(terminal).toHaveLength(1);
    expect(reqs[reqs.length - 1]).toBe(terminal[0]);
    expect(reqs.every((r) => r.url === '/api/external/jobs/client-42')).toBe(true);

    const progress = reqs.slice(0, -1);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    let last = -1;
    for (const p of progress) {
      expectProgressShape(p.body, job.job_id);
      expect(p.body.job.external_id).toBe('client-42');
      expect(p.body.progress).toBeGreaterThanOrEqual(last);
      last = p.body.progress;
    }
    // throttled: about one per second per job, only on change
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(700);
      expect(JSON.stringify([progress[i]!.body.phase, progress[i]!.body.progress, progress[i]!.body.message])).not.toBe(
        JSON.stringify([progress[i - 1]!.body.phase, progress[i - 1]!.body.progress, progress[i - 1]!.body.message]),
      );
    }
    expect(progress.length).toBeLessThanOrEqual(3.2 + 2);

    const done = terminal[0]!.body;
    expect(done).toMatchObject({ phase: 'completed', status: 'completed', progress: 100, process: { id: job.job_id }, job: { id: job.job_id, external_id: 'client-42' } });
    expect(done.data.echo).toMatchObject({ message: 'hi' });
    expect(done.error).toBeUndefined();

    // headers
    const ids = new Set<string>();
    for (const r of reqs) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers.accept).toBe('application/json');
      expect(r.headers['user-agent']).toMatch(/^Secretary\/\d+\.\d+\.\d+/);
      expect(r.headers.authorization).toBe('Bearer cb-token-123');
      expect(r.headers['x-callback-token']).toBe('cb-token-123');
      expect(r.headers['x-secretary-signature']).toBeUndefined();
      ids.add(String(r.headers['x-secretary-event-id']));
      expect(r.raw).not.toContain('cb-token-123');
    }
    expect(ids.size).toBe(reqs.length);
    expect(JSON.stringify(h.logs)).not.toContain('cb-token-123');

    // every attempt is logged on the job
    const deliveries = await h.store.getDeliveries(job.job_id);
    const sent = deliveries.filter((d) => d.outcome === 'delivered');
    expect(sent).toHaveLength(reqs.length);
    expect(sent.every((d) => d.status_code === 200 && typeof d.latency_ms === 'number')).toBe(true);
    expect(deliveries[deliveries.length - 1]).toMatchObject({ kind: 'completed', outcome: 'delivered', attempt: 1 });
  });

  it('sends one error callback with a non-empty error object for a failed job, never a failed phase', async () => {
    rx = await startReceiver();
    h = await startHarness();
    const { job } = await h.store.createJob({ job_type: 'echo', parameters: { fail_with: 'unrecoverable' }, webhook: hook(rx.url()) });
    await until(() => ofJob(rx!.requests, job.job_id).some(isTerminalBody));
    await sleep(500);
    const reqs = ofJob(rx.requests, job.job_id);
    expect(reqs.filter(isTerminalBody)).toHaveLength(1);
    expect(reqs.some((r) => r.body.phase === 'failed')).toBe(false);
    const err = reqs[reqs.length - 1]!.body;
    expect(err).toMatchObject({ phase: 'error', status: 'failed', process: { id: job.job_id }, job: { id: job.job_id }, data: null });
    expect(err.error.code).toBe('HANDLER_ERROR');
    expect(err.error.message).toMatch(/echo asked to fail/);
    expect(err.message.length).toBeGreaterThan(0);
  });

  it('sends one error callback (CANCELLED) for a cancelled job and nothing after it', async () => {
    rx = await startReceiver();
    h = await startHarness();
    const { job } = await h.store.createJob({ job_type: 'echo', parameters: { sleep_ms: 20_000 }, webhook: hook(rx.url()) });
    await until(async () => (await h!.store.getJob(job.job_id))?.status === 'processing');
    await until(() => ofJob(rx!.requests, job.job_id).length >= 1, 5000, 'first progress');
    await h.store.cancelJob(job.job_id, 'user clicked stop');
    await until(() => ofJob(rx!.requests, job.job_id).some(isTerminalBody));
    await sleep(1500);
    const reqs = ofJob(rx.requests, job.job_id);
    expect(reqs.filter(isTerminalBody)).toHaveLength(1);
    const last = reqs[reqs.length - 1]!.body;
    expect(last).toMatchObject({ phase: 'error', status: 'cancelled', error: { code: 'CANCELLED', message: 'user clicked stop' } });
  });

  it('signs bodies with HMAC-SHA256 over "<timestamp>.<body>" and passes custom headers', async () => {
    rx = await startReceiver();
    h = await startHarness({ dispatcher: { signingSecret: 'shh-secret' } });
    const { job } = await h.store.createJob({
      job_type: 'echo',
      parameters: {},
      webhook: hook(rx.url(), { headers: { 'X-Tenant': 'abc', 'Content-Type': 'text/plain', 'X-Secretary-Event-Id': 'forged' } }),
    });
    await until(() => ofJob(rx!.requests, job.job_id).some(isTerminalBody));
    for (const r of ofJob(rx.requests, job.job_id)) {
      const ts = String(r.headers['x-secretary-timestamp']);
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
      const expected = `v1=${createHmac('sha256', 'shh-secret').update(`${ts}.${r.raw}`).digest('hex')}`;
      expect(r.headers['x-secretary-signature']).toBe(expected);
      expect(r.headers['x-tenant']).toBe('abc');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-secretary-event-id']).toMatch(/^evt-/);
    }
  });

  it('sends a batch webhook once when the batch is terminal', async () => {
    rx = await startReceiver();
    h = await startHarness();
    const { batch, jobs } = await h.store.createBatch({
      batch_name: 'nightly',
      jobs: [{ job_type: 'echo', parameters: {} }, { job_type: 'echo', parameters: { fail_with: 'unrecoverable' } }],
      webhook: hook(rx.url('/batch')),
    });
    await until(() => rx!.requests.some((r) => r.body.batch?.id === batch.batch_id));
    await sleep(500);
    const got = rx.requests.filter((r) => r.url === '/batch');
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toMatchObject({
      phase: 'error',
      batch: { id: batch.batch_id, name: 'nightly', status: 'failed', total_jobs: 2, completed_jobs: 1, failed_jobs: 1 },
      error: { code: 'HANDLER_ERROR' },
    });
    expect(jobs).toHaveLength(2);
  });

  it('makes URLs in completed data absolute when a public base URL is set', () => {
    const registry = new HandlerRegistry().register({
      type: 'doc',
      handler: async () => ({}),
      callbackData: (job, url) => ({ extracted_text: '--- Seite 1 ---\nx', images_archive_url: url(`/api/jobs/${job.job_id}/download-archive`) }),
    });
    const job = { job_id: 'job-1', job_type: 'doc', external_id: null, progress: null, results: {}, webhook: { url: 'x', include_metadata: false } } as unknown as Job;
    const body = completedBody(job, { registry, publicBaseUrl: 'https://secretary.example.org/' });
    expect(body.data.images_archive_url).toBe('https://secretary.example.org/api/jobs/job-1/download-archive');
    expect(completedBody(job, { registry, publicBaseUrl: null }).data.images_archive_url).toBe('/api/jobs/job-1/download-archive');
  });
});
