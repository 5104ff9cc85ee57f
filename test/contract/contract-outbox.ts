/** Contract: the webhook outbox (records per transition, per-target order, leases, deliveries, redeliver). */
import { describe, expect, it } from 'vitest';
import type { DeliveryAttempt, OutboxRecord } from '../../src/store/job-store.js';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  createAndClaim,
  drainOutbox,
  isoIn,
  jobError,
  leaseOf,
  newJob,
  sleep,
  WEBHOOK,
} from '../helpers/store-fixtures.js';

const attemptOf = (
  r: OutboxRecord,
  n: number,
  outcome: DeliveryAttempt['outcome'] = 'delivered',
): DeliveryAttempt => ({
  event_id: r.event_id,
  kind: r.kind,
  attempt: n,
  at: new Date().toISOString(),
  status_code: outcome === 'delivered' ? 200 : 503,
  latency_ms: 5,
  error: outcome === 'delivered' ? null : 'HTTP 503',
  outcome,
});

export const registerOutboxTests = (h: ContractHarness): void => {
  describe('outbox records', () => {
    it('writes progress and terminal records in seq order; listOutbox returns them in order', async () => {
      const c = await createAndClaim(h.store, { webhook: WEBHOOK });
      expect(
        await h.store.updateProgress(leaseOf(c), { step: 'a', percent: 10, message: null }),
      ).toBe(true);
      expect(
        await h.store.updateProgress(leaseOf(c), { step: 'b', percent: 20, message: null }),
      ).toBe(true);
      expect(await h.store.complete(leaseOf(c), { ok: 1 })).toBe(true);
      const records = await h.store.listOutbox(c.job_id);
      expect(records.map((r) => r.kind)).toEqual(['progress', 'progress', 'completed']);
      expect(
        records.every((r) => r.job_id === c.job_id && r.status === 'pending' && r.attempts === 0),
      ).toBe(true);
      expect(records[0]!.seq).toBeLessThan(records[1]!.seq);
      expect(records[1]!.seq).toBeLessThan(records[2]!.seq);
      expect(records[0]!.snapshot?.progress).toMatchObject({ step: 'a', percent: 10 });
      expect(new Set(records.map((r) => r.event_id)).size).toBe(3);
    });

    it('writes nothing for jobs without a webhook, whatever happens to them', async () => {
      const a = await createAndClaim(h.store, { job_type: 'nw', max_attempts: 1 });
      expect(
        await h.store.updateProgress(leaseOf(a), { step: 's', percent: 50, message: null }),
      ).toBe(true);
      expect(await h.store.complete(leaseOf(a), {})).toBe(true);
      const b = await createAndClaim(h.store, { job_type: 'nw2' });
      expect(await h.store.fail(leaseOf(b), jobError())).toBe(true);
      const { job } = await h.store.createJob(newJob());
      await h.store.cancelJob(job.job_id);
      await createAndClaim(h.store, { job_type: 'nw3', max_attempts: 1 }, { leaseMs: 50 });
      await sleep(120);
      expect((await h.store.reapExpiredLeases()).failed).toHaveLength(1);
      expect(await h.store.redeliver(a.job_id)).toBeNull();
      expect(await h.store.claimOutbox({ owner: 'o', limit: 100, leaseMs: 30_000 })).toEqual([]);
      expect((await h.store.stats()).outbox_pending).toBe(0);
    });

    it('writes one batch record per entry of a batch into a terminal state', async () => {
      const empty = await h.store.createBatch({ jobs: [], webhook: WEBHOOK });
      const { batch } = await h.store.createBatch({
        webhook: WEBHOOK,
        jobs: [newJob({ job_type: 'bw' })],
      });
      const c = await claimOne(h.store, { type: 'bw' });
      expect(await h.store.fail(leaseOf(c), jobError())).toBe(true);
      let sent = (await drainOutbox(h.store)).filter((r) => r.kind === 'batch');
      expect(sent.map((r) => r.batch_id).sort()).toEqual(
        [empty.batch.batch_id, batch.batch_id].sort(),
      );
      expect(sent.every((r) => r.job_id === null)).toBe(true);
      expect((await h.store.retryJob(c.job_id)).outcome).toBe('retried');
      const again = await claimOne(h.store, { type: 'bw' });
      expect(await h.store.complete(leaseOf(again), {})).toBe(true);
      sent = (await drainOutbox(h.store)).filter((r) => r.kind === 'batch');
      expect(sent.map((r) => r.batch_id)).toEqual([batch.batch_id]);
    });
  });

  describe('claimOutbox and finishOutbox', () => {
    it('hands out per target only the oldest unfinished record, one at a time, with superseded', async () => {
      const c = await createAndClaim(h.store, { webhook: WEBHOOK });
      await h.store.updateProgress(leaseOf(c), { step: 'a', percent: 10, message: null });
      await h.store.updateProgress(leaseOf(c), { step: 'b', percent: 20, message: null });
      await h.store.complete(leaseOf(c), {});
      const ids = (await h.store.listOutbox(c.job_id)).map((r) => r.event_id);

      const first = await h.store.claimOutbox({ owner: 'X', limit: 10, leaseMs: 30_000 });
      expect(first.map((r) => [r.event_id, r.kind, r.status, r.attempts, r.superseded])).toEqual([
        [ids[0], 'progress', 'sending', 1, true],
      ]);
      expect(await h.store.claimOutbox({ owner: 'Y', limit: 10, leaseMs: 30_000 })).toEqual([]);
      expect(await h.store.finishOutbox(ids[0]!, 'X', { outcome: 'delivered' })).toBe(true);

      const second = await h.store.claimOutbox({ owner: 'X', limit: 10, leaseMs: 30_000 });
      expect(second.map((r) => [r.event_id, r.superseded])).toEqual([[ids[1], true]]);
      expect(await h.store.finishOutbox(ids[1]!, 'X', { outcome: 'skipped' })).toBe(true);
      const third = await h.store.claimOutbox({ owner: 'X', limit: 10, leaseMs: 30_000 });
      expect(third.map((r) => [r.event_id, r.kind, r.superseded])).toEqual([
        [ids[2], 'completed', false],
      ]);
      expect(await h.store.finishOutbox(ids[2]!, 'X', { outcome: 'failed' })).toBe(true);
      expect(await h.store.claimOutbox({ owner: 'X', limit: 10, leaseMs: 30_000 })).toEqual([]);
      expect((await h.store.listOutbox(c.job_id)).map((r) => r.status)).toEqual([
        'delivered',
        'skipped',
        'failed',
      ]);
    });

    it('serves several targets in one claim, up to limit', async () => {
      for (let i = 0; i < 3; i += 1) {
        const { job } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
        await h.store.cancelJob(job.job_id);
      }
      const two = await h.store.claimOutbox({ owner: 'X', limit: 2, leaseMs: 30_000 });
      expect(two).toHaveLength(2);
      expect(new Set(two.map((r) => r.job_id)).size).toBe(2);
      const rest = await h.store.claimOutbox({ owner: 'X', limit: 10, leaseMs: 30_000 });
      expect(rest).toHaveLength(1);
      expect(two.map((r) => r.job_id)).not.toContain(rest[0]!.job_id);
    });

    it('lets only the owner finish a sending record', async () => {
      const { job } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
      await h.store.cancelJob(job.job_id);
      const [r] = await h.store.claimOutbox({ owner: 'X', limit: 1, leaseMs: 30_000 });
      expect(await h.store.finishOutbox(r!.event_id, 'Y', { outcome: 'delivered' })).toBe(false);
      expect((await h.store.listOutbox(job.job_id))[0]!.status).toBe('sending');
      expect(await h.store.finishOutbox(r!.event_id, 'X', { outcome: 'delivered' })).toBe(true);
      expect(await h.store.finishOutbox(r!.event_id, 'X', { outcome: 'failed' })).toBe(false);
      expect((await h.store.listOutbox(job.job_id))[0]!.status).toBe('delivered');
      expect(await h.store.finishOutbox('evt-unknown', 'X', { outcome: 'delivered' })).toBe(false);
    });

    it('does not hand out a record retried for later (nor later ones of its target)', async () => {
      const c = await createAndClaim(h.store, { webhook: WEBHOOK });
      await h.store.updateProgress(leaseOf(c), { step: 'a', percent: 10, message: null });
      await h.store.complete(leaseOf(c), {});
      const [r] = await h.store.claimOutbox({ owner: 'X', limit: 10, leaseMs: 30_000 });
      const next = isoIn(60_000);
      expect(
        await h.store.finishOutbox(r!.event_id, 'X', { outcome: 'retry', next_attempt_at: next }),
      ).toBe(true);
      const stored = (await h.store.listOutbox(c.job_id))[0]!;
      expect(stored).toMatchObject({
        event_id: r!.event_id,
        status: 'pending',
        attempts: 1,
        next_attempt_at: next,
      });
      expect(await h.store.claimOutbox({ owner: 'X', limit: 10, leaseMs: 30_000 })).toEqual([]);
      // Once due it is claimable again (next_attempt_at in the past: see the deliveries tests).
    });

    it('reclaims a sending record whose lease expired; the old owner can no longer finish it', async () => {
      const { job } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
      await h.store.cancelJob(job.job_id);
      const [r] = await h.store.claimOutbox({ owner: 'dead', limit: 1, leaseMs: 50 });
      await sleep(150);
      const again = await h.store.claimOutbox({ owner: 'alive', limit: 1, leaseMs: 30_000 });
      expect(again.map((x) => [x.event_id, x.attempts, x.status])).toEqual([
        [r!.event_id, 2, 'sending'],
      ]);
      expect(await h.store.finishOutbox(r!.event_id, 'dead', { outcome: 'delivered' })).toBe(false);
      expect(await h.store.finishOutbox(r!.event_id, 'alive', { outcome: 'delivered' })).toBe(true);
    });
  });

  describe('deliveries and redeliver', () => {
    it('appends delivery attempts to the job log, oldest first', async () => {
      const { job } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
      await h.store.cancelJob(job.job_id);
      const [r1] = await h.store.claimOutbox({ owner: 'X', limit: 1, leaseMs: 30_000 });
      const a1 = attemptOf(r1!, 1, 'retry');
      expect(
        await h.store.finishOutbox(r1!.event_id, 'X', {
          outcome: 'retry',
          next_attempt_at: isoIn(-1),
          attempt: a1,
        }),
      ).toBe(true);
      const [r2] = await h.store.claimOutbox({ owner: 'X', limit: 1, leaseMs: 30_000 });
      const a2 = attemptOf(r2!, 2);
      expect(
        await h.store.finishOutbox(r2!.event_id, 'X', { outcome: 'delivered', attempt: a2 }),
      ).toBe(true);
      expect(await h.store.getDeliveries(job.job_id)).toEqual([a1, a2]);
      expect(await h.store.getDeliveries('job-unknown')).toEqual([]);
    });

    it('keeps only the newest maxDeliveries attempts', async () => {
      const store = await h.open({ limits: { maxDeliveries: 3 } });
      const { job } = await store.createJob(newJob({ webhook: WEBHOOK }));
      await store.cancelJob(job.job_id);
      for (let n = 1; n <= 5; n += 1) {
        const [r] = await store.claimOutbox({ owner: 'X', limit: 1, leaseMs: 30_000 });
        expect(r?.attempts).toBe(n);
        expect(
          await store.finishOutbox(r!.event_id, 'X', {
            outcome: 'retry',
            next_attempt_at: isoIn(-1),
            attempt: attemptOf(r!, n, 'retry'),
          }),
        ).toBe(true);
      }
      expect((await store.getDeliveries(job.job_id)).map((d) => d.attempt)).toEqual([3, 4, 5]);
    });

    it('redelivers the terminal callback of a finished job with a webhook; null otherwise', async () => {
      const done = await createAndClaim(h.store, { webhook: WEBHOOK });
      await h.store.complete(leaseOf(done), {});
      const failed = await createAndClaim(h.store, { webhook: WEBHOOK });
      await h.store.fail(leaseOf(failed), jobError());
      const { job: cancelled } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
      await h.store.cancelJob(cancelled.job_id);
      await drainOutbox(h.store);

      for (const [id, kind] of [
        [done.job_id, 'completed'],
        [failed.job_id, 'failed'],
        [cancelled.job_id, 'cancelled'],
      ] as const) {
        const rec = await h.store.redeliver(id);
        expect(rec).toMatchObject({ job_id: id, kind, status: 'pending' });
        const list = await h.store.listOutbox(id);
        expect(list.at(-1)?.event_id).toBe(rec!.event_id);
        expect(list.at(-1)!.seq).toBeGreaterThan(list[0]!.seq);
      }
      const resent = await drainOutbox(h.store);
      expect(resent.map((r) => r.kind).sort()).toEqual(['cancelled', 'completed', 'failed']);

      const { job: pending } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
      expect(await h.store.redeliver(pending.job_id)).toBeNull();
      const plain = await createAndClaim(h.store);
      await h.store.complete(leaseOf(plain), {});
      expect(await h.store.redeliver(plain.job_id)).toBeNull();
      expect(await h.store.redeliver('job-unknown')).toBeNull();
      expect(await h.store.listOutbox(pending.job_id)).toEqual([]);
    });
  });
};
