/** Retries, timeouts, slow receivers, restarts and redelivery against a real receiver. */
import Fastify from 'fastify';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { webhookRoutes } from '../../src/api/routes/webhook-routes.js';
import type { Job } from '../../src/core/job.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { hook, isTerminalBody, ofJob, sleep, startHarness, until, type Harness } from './harness.js';
import { startReceiver, type Receiver } from './receiver.js';

let h: Harness | null = null;
let rx: Receiver | null = null;
afterEach(async () => {
  await h?.close();
  await rx?.close();
  h = null;
  rx = null;
});

const terminalOf = (jobId: string) => ofJob(rx!.requests, jobId).filter(isTerminalBody);

describe('webhook delivery policy', () => {
  it('retries a callback whose connection was reset before any answer, with a stable event id', async () => {
    let resets = 0;
    rx = await startReceiver((r) => (isTerminalBody(r as never) && resets++ < 2 ? { kind: 'reset' } : { kind: 'ok' }));
    h = await startHarness();
    const { job } = await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url()) });
    await until(() => terminalOf(job.job_id).some((r) => r.answer === '200'));
    await sleep(300);
    const t = terminalOf(job.job_id);
    expect(t.map((r) => r.answer)).toEqual(['reset', 'reset', '200']);
    expect(new Set(t.map((r) => r.headers['x-secretary-event-id'])).size).toBe(1);
    expect(t.map((r) => r.headers['x-secretary-attempt'])).toEqual(['1', '2', '3']);
    const d = (await h.store.getDeliveries(job.job_id)).filter((x) => x.kind === 'completed');
    expect(d.map((x) => x.outcome)).toEqual(['retry', 'retry', 'delivered']);
    expect(d[0]!.error).toMatch(/not delivered/);
  });

  it('honours Retry-After on 503', async () => {
    let first = true;
    rx = await startReceiver((r) => {
      if (isTerminalBody(r as never) && first) {
        first = false;
        return { kind: 'ok', status: 503, headers: { 'Retry-After': '1' } };
      }
      return { kind: 'ok' };
    });
    h = await startHarness();
    const { job } = await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url()) });
    await until(() => terminalOf(job.job_id).some((r) => r.answer === '200'));
    const t = terminalOf(job.job_id);
    expect(t.map((r) => r.answer)).toEqual(['503', '200']);
    expect(t[1]!.at - t[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('at_most_once (default): a delivered callback that got 500 or no answer in time is not resent', async () => {
    rx = await startReceiver((r) => (r.url === '/err' ? { kind: 'ok', status: 500 } : r.url === '/hole' && isTerminalBody(r as never) ? { kind: 'blackhole' } : { kind: 'ok' }));
    h = await startHarness({ dispatcher: { timeoutMs: 800 } });
    const a = (await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url('/err')) })).job;
    const b = (await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url('/hole')) })).job;
    await until(async () => (await h!.store.getDeliveries(b.job_id)).some((d) => d.kind === 'completed'));
    await sleep(1500);
    expect(terminalOf(a.job_id)).toHaveLength(1);
    expect(terminalOf(b.job_id)).toHaveLength(1);
    const da = (await h.store.getDeliveries(a.job_id)).filter((d) => d.kind === 'completed');
    expect(da).toEqual([expect.objectContaining({ outcome: 'failed', status_code: 500, attempt: 1 })]);
    const db = (await h.store.getDeliveries(b.job_id)).filter((d) => d.kind === 'completed');
    expect(db).toEqual([expect.objectContaining({ outcome: 'failed', status_code: null })]);
    expect(db[0]!.error).toMatch(/no answer within 800 ms/);
  });

  it('at_least_once: 500 and timeouts are retried until delivered', async () => {
    let n = 0;
    rx = await startReceiver((r) => {
      if (!isTerminalBody(r as never)) return { kind: 'ok' };
      n += 1;
      return n === 1 ? { kind: 'ok', status: 500 } : n === 2 ? { kind: 'blackhole' } : { kind: 'ok' };
    });
    h = await startHarness({ dispatcher: { timeoutMs: 600 } });
    const { job } = await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url(), { delivery: 'at_least_once' }) });
    await until(() => terminalOf(job.job_id).some((r) => r.answer === '200'));
    const t = terminalOf(job.job_id);
    expect(t.map((r) => r.answer)).toEqual(['500', 'blackhole', '200']);
    expect(new Set(t.map((r) => r.headers['x-secretary-event-id'])).size).toBe(1);
  });

  it('a receiver that takes long delays no other job and gets no duplicate', async () => {
    rx = await startReceiver((r) => (r.url === '/slow' && isTerminalBody(r as never) ? { kind: 'ok', delayMs: 3000 } : { kind: 'ok' }));
    // one fast slot only: the slow request must leave it (slow lane) so others keep flowing
    h = await startHarness({ dispatcher: { concurrency: 1, slowAfterMs: 200, timeoutMs: 10_000 } });
    const slow = (await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url('/slow')) })).job;
    await until(() => terminalOf(slow.job_id).length === 1);
    const slowAt = terminalOf(slow.job_id)[0]!.at;
    const others: Job[] = [];
    for (let i = 0; i < 5; i++) others.push((await h.store.createJob({ job_type: 'echo', parameters: { steps: 1 }, webhook: hook(rx.url('/fast')) })).job);
    await until(() => others.every((o) => terminalOf(o.job_id).length === 1), 10_000, 'other jobs');
    for (const o of others) expect(terminalOf(o.job_id)[0]!.at - slowAt).toBeLessThan(2500);
    await until(async () => (await h!.store.getDeliveries(slow.job_id)).some((d) => d.kind === 'completed'), 10_000);
    await sleep(500);
    expect(terminalOf(slow.job_id)).toHaveLength(1);
    const d = (await h.store.getDeliveries(slow.job_id)).find((x) => x.kind === 'completed');
    expect(d).toMatchObject({ outcome: 'delivered', status_code: 200 });
    expect(d!.latency_ms).toBeGreaterThanOrEqual(2900);
  });

  it('a record that was mid-send when its process died: not resent under at_most_once, resent under at_least_once', async () => {
    rx = await startReceiver();
    h = await startHarness({ start: false });
    const once = (await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url('/once')) })).job;
    const least = (await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url('/least'), { delivery: 'at_least_once' }) })).job;
    h.worker.start();
    await until(async () => (await h!.store.listOutbox(least.job_id)).some((r) => r.kind === 'completed'));
    await until(async () => (await h!.store.listOutbox(once.job_id)).some((r) => r.kind === 'completed'));
    // a "dead" process claims everything and never finishes (its lease expires)
    for (;;) {
      const got = await h.store.claimOutbox({ owner: 'dead-process', limit: 100, leaseMs: 300 });
      if (got.length === 0) break;
      for (const r of got) if (r.kind === 'progress') await h.store.finishOutbox(r.event_id, 'dead-process', { outcome: 'delivered' });
    }
    await sleep(400);
    h.dispatcher.start();
    await until(async () => (await h!.store.listOutbox(once.job_id)).every((r) => r.status !== 'sending' && r.status !== 'pending'));
    await until(() => terminalOf(least.job_id).length === 1);
    await sleep(300);
    expect(terminalOf(once.job_id)).toHaveLength(0);
    const d = (await h.store.getDeliveries(once.job_id)).filter((x) => x.kind === 'completed');
    expect(d).toEqual([expect.objectContaining({ outcome: 'failed', attempt: 2 })]);
    expect(d[0]!.error).toMatch(/interrupted/);
    expect(terminalOf(least.job_id)[0]!.headers['x-secretary-attempt']).toBe('2');
  });
});

describe('restart and redelivery', () => {
  it('delivers pending callbacks after the process restarts (same SQLite file, new dispatcher)', async () => {
    rx = await startReceiver(() => ({ kind: 'ok', delayMs: 40 }));
    const tmp = tempDir('secretary-restart-');
    const path = join(tmp.dir, 'jobs.db');
    const first = await startHarness({ path, dispatcher: { concurrency: 2 } });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await first.store.createJob({ job_type: 'echo', parameters: { i }, webhook: hook(rx.url()) })).job.job_id);
    await until(() => rx!.requests.filter(isTerminalBody).length >= 5, 15_000, 'some deliveries');
    await first.worker.stop(5000);
    await first.dispatcher.stop(5000);
    await first.store.close();
    const before = rx.requests.filter(isTerminalBody).length;
    expect(before).toBeLessThan(30);

    h = await startHarness({ path, dispatcher: { concurrency: 4 } });
    await until(() => ids.every((id) => terminalOf(id).length >= 1), 20_000, 'all terminal callbacks');
    await sleep(500);
    for (const id of ids) expect(terminalOf(id)).toHaveLength(1);
    await h.close();
    h = null;
    tmp.cleanup();
  });

  it('POST /api/jobs/:id/webhook/redeliver queues the terminal callback again', async () => {
    rx = await startReceiver();
    h = await startHarness();
    const app = Fastify();
    await app.register(webhookRoutes, { deps: { store: h.store } as never, payload: { registry: h.registry, publicBaseUrl: null } });
    const { job } = await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url()) });
    const noHook = (await h.store.createJob({ job_type: 'echo', parameters: {} })).job;
    const waiting = (await h.store.createJob({ job_type: 'echo', parameters: { sleep_ms: 10_000 }, webhook: hook(rx.url()) })).job;
    await until(() => terminalOf(job.job_id).length === 1);
    await until(async () => (await h!.store.getJob(noHook.job_id))?.status === 'completed');

    const res = await app.inject({ method: 'POST', url: `/api/jobs/${job.job_id}/webhook/redeliver` });
    expect(res.statusCode).toBe(202);
    const eventId = res.json().data.event_id as string;
    expect(eventId).toMatch(/^evt-/);
    await until(() => terminalOf(job.job_id).length === 2);
    const again = terminalOf(job.job_id)[1]!;
    expect(again.headers['x-secretary-event-id']).toBe(eventId);
    expect(again.body).toMatchObject({ phase: 'completed', process: { id: job.job_id } });

    expect((await app.inject({ method: 'POST', url: '/api/jobs/job-nope/webhook/redeliver' })).statusCode).toBe(404);
    const r409 = await app.inject({ method: 'POST', url: `/api/jobs/${waiting.job_id}/webhook/redeliver` });
    expect(r409.statusCode).toBe(409);
    const r400 = await app.inject({ method: 'POST', url: `/api/jobs/${noHook.job_id}/webhook/redeliver` });
    expect(r400.statusCode).toBe(400);
    expect(r400.json().error.code).toBe('WEBHOOK_NOT_CONFIGURED');
    await app.close();
  });
});
