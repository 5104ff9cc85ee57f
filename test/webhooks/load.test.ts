/** 1,000 jobs with webhooks to a receiver that destroys 30 % of connections before answering. */
import { afterEach, describe, expect, it } from 'vitest';
import type { NewJob } from '../../src/core/job.js';
import { hook, isTerminalBody, startHarness, until, type Harness } from './harness.js';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver.js';

let h: Harness | null = null;
let rx: Receiver | null = null;
afterEach(async () => {
  await h?.close();
  await rx?.close();
});

describe('webhook delivery under load', () => {
  it('every one of 1,000 jobs gets exactly one terminal callback, none lost, despite 30 % resets', async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    rx = await startReceiver(() => (random() < 0.3 ? { kind: 'reset' } : { kind: 'ok' }));
    h = await startHarness({
      dispatcher: { concurrency: 32, maxRetries: 40, backoffBaseMs: 10, backoffMaxMs: 100, pollIntervalMs: 50 },
      worker: { maxConcurrent: 50, pollIntervalMs: 50 },
    });
    const inputs: NewJob[] = Array.from({ length: 1000 }, (_, i) => ({ job_type: 'echo', parameters: { i }, webhook: hook(rx!.url(`/cb/${i}`)) }));
    const started = Date.now();
    const jobs = await h.store.createJobs(inputs);
    const ids = new Set(jobs.map((j) => j.job_id));
    const answeredTerminal = () => rx!.requests.filter((r) => r.answer === '200' && isTerminalBody(r));
    await until(() => answeredTerminal().length >= 1000, 120_000, '1000 terminal callbacks');
    await until(async () => (await h!.store.stats()).outbox_pending === 0, 20_000, 'outbox drained');
    const elapsed = Date.now() - started;

    const byJob = new Map<string, ReceivedRequest[]>();
    for (const r of rx.requests) {
      const id = r.body?.process?.id as string;
      byJob.set(id, [...(byJob.get(id) ?? []), r]);
    }
    expect(byJob.size).toBe(1000);
    let resets = 0;
    for (const id of ids) {
      const reqs = byJob.get(id) ?? [];
      const answered = reqs.filter((r) => r.answer === '200');
      const terminals = answered.filter(isTerminalBody);
      expect(terminals, id).toHaveLength(1);
      // nothing after the terminal callback, and only one terminal event id
      expect(answered[answered.length - 1]).toBe(terminals[0]);
      expect(reqs.indexOf(terminals[0]!)).toBe(reqs.length - 1);
      expect(new Set(reqs.filter(isTerminalBody).map((r) => r.headers['x-secretary-event-id'])).size).toBe(1);
      resets += reqs.filter((r) => r.answer === 'reset').length;
    }
    expect(resets).toBeGreaterThan(300);
    const job = jobs[0]!;
    const deliveries = await h.store.getDeliveries(job.job_id);
    expect(deliveries[deliveries.length - 1]).toMatchObject({ kind: 'completed', outcome: 'delivered' });
    console.log(`1000 jobs, ${rx.requests.length} requests (${resets} reset), all terminal callbacks in ${elapsed} ms`);
  }, 180_000);
});
