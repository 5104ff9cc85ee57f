/** Contract: cancelJob, retryJob, deleteJob, addJobLog. */
import { describe, expect, it } from 'vitest';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  counters,
  createAndClaim,
  drainOutbox,
  expectInstantBetween,
  jobError,
  leaseOf,
  logEntry,
  mustGetBatch,
  mustGetJob,
  newJob,
  WEBHOOK,
} from '../helpers/store-fixtures.js';

export const registerControlTests = (h: ContractHarness): void => {
  describe('cancelJob', () => {
    it('cancels a pending job with the default reason and a cancelled outbox record', async () => {
      const { job } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
      const before = Date.now();
      const res = await h.store.cancelJob(job.job_id);
      expect(res.outcome).toBe('cancelled');
      if (res.outcome !== 'cancelled') return;
      expect(res.was).toBe('pending');
      expect(res.job).toMatchObject({
        status: 'cancelled',
        error: { code: 'CANCELLED', message: 'cancelled by request' },
      });
      const j = await mustGetJob(h.store, job.job_id);
      expect(j).toMatchObject({
        status: 'cancelled',
        error: { code: 'CANCELLED', message: 'cancelled by request' },
        lease_owner: null,
      });
      expectInstantBetween(j.completed_at, before, Date.now());
      expect((await h.store.listOutbox(job.job_id)).map((r) => r.kind)).toEqual(['cancelled']);
      expect(
        await h.store.claim({ owner: 'w', limit: 1, types: { test: 1 }, leaseMs: 30_000 }),
      ).toEqual([]);
    });

    it('cancels a processing job: lease cleared, the old lease writes fail, heartbeat reports it lost', async () => {
      const c = await createAndClaim(h.store, {}, { owner: 'W' });
      const res = await h.store.cancelJob(c.job_id, 'user pressed stop');
      expect(res).toMatchObject({ outcome: 'cancelled', was: 'processing' });
      const j = await mustGetJob(h.store, c.job_id);
      expect(j).toMatchObject({
        status: 'cancelled',
        error: { code: 'CANCELLED', message: 'user pressed stop' },
        lease_owner: null,
        lease_expires_at: null,
      });
      expect(await h.store.extendLeases('W', [leaseOf(c)], 30_000)).toEqual([c.job_id]);
      expect(
        await h.store.updateProgress(leaseOf(c), { step: 's', percent: 50, message: null }),
      ).toBe(false);
      expect(await h.store.complete(leaseOf(c), { late: true })).toBe(false);
      expect(await h.store.fail(leaseOf(c), jobError())).toBe(false);
      expect(await h.store.release(leaseOf(c), 'shutdown')).toBe(false);
      expect(await mustGetJob(h.store, c.job_id)).toEqual(j);
      expect(await h.store.listOutbox(c.job_id)).toEqual([]);
    });

    it('answers already_terminal for finished jobs and not_found for unknown ids', async () => {
      const c = await createAndClaim(h.store);
      expect(await h.store.complete(leaseOf(c), { r: 1 })).toBe(true);
      const res = await h.store.cancelJob(c.job_id);
      expect(res.outcome).toBe('already_terminal');
      if (res.outcome === 'already_terminal')
        expect(res.job).toMatchObject({ job_id: c.job_id, status: 'completed' });
      expect((await mustGetJob(h.store, c.job_id)).status).toBe('completed');
      expect(await h.store.cancelJob('job-unknown')).toEqual({ outcome: 'not_found' });
    });

    it('moves batch counters; a batch of only cancelled jobs is cancelled, with one completed it is completed', async () => {
      const all = await h.store.createBatch({
        jobs: [newJob({ job_type: 'ca' }), newJob({ job_type: 'ca' })],
      });
      const running = await claimOne(h.store, { type: 'ca' });
      await h.store.cancelJob(running.job_id);
      expect(counters(await mustGetBatch(h.store, all.batch.batch_id))).toMatchObject({
        status: 'processing',
        pending: 1,
        processing: 0,
        cancelled: 1,
      });
      await h.store.cancelJob(all.jobs.find((j) => j.job_id !== running.job_id)!.job_id);
      const cancelled = await mustGetBatch(h.store, all.batch.batch_id);
      expect(counters(cancelled)).toEqual({
        status: 'cancelled',
        total: 2,
        pending: 0,
        processing: 0,
        completed: 0,
        failed: 0,
        cancelled: 2,
      });
      expect(cancelled.completed_at).not.toBeNull();

      const mixed = await h.store.createBatch({
        jobs: [newJob({ job_type: 'cm' }), newJob({ job_type: 'cm' })],
      });
      const done = await claimOne(h.store, { type: 'cm' });
      expect(await h.store.complete(leaseOf(done), {})).toBe(true);
      await h.store.cancelJob(mixed.jobs.find((j) => j.job_id !== done.job_id)!.job_id);
      expect(counters(await mustGetBatch(h.store, mixed.batch.batch_id))).toMatchObject({
        status: 'completed',
        completed: 1,
        cancelled: 1,
      });
    });
  });

  describe('retryJob', () => {
    it('puts a failed job back to pending with everything reset; the batch follows', async () => {
      const { batch } = await h.store.createBatch({
        jobs: [newJob({ job_type: 'ok' }), newJob({ job_type: 'bad' })],
      });
      const ok = await claimOne(h.store, { type: 'ok' });
      expect(await h.store.complete(leaseOf(ok), {})).toBe(true);
      const bad = await claimOne(h.store, { type: 'bad' });
      expect(
        await h.store.updateProgress(leaseOf(bad), { step: 's', percent: 40, message: null }),
      ).toBe(true);
      expect(await h.store.fail(leaseOf(bad), jobError())).toBe(true);
      expect((await mustGetBatch(h.store, batch.batch_id)).status).toBe('failed');

      const before = Date.now();
      const res = await h.store.retryJob(bad.job_id);
      expect(res.outcome).toBe('retried');
      const j = await mustGetJob(h.store, bad.job_id);
      expect(j).toMatchObject({
        status: 'pending',
        attempts: 0,
        error: null,
        results: null,
        progress: null,
        completed_at: null,
        processing_started_at: null,
        lease_owner: null,
      });
      expectInstantBetween(j.run_at, before, Date.now());
      if (res.outcome === 'retried')
        expect(res.job).toMatchObject({ job_id: bad.job_id, status: 'pending', attempts: 0 });
      const b = await mustGetBatch(h.store, batch.batch_id);
      expect(counters(b)).toEqual({
        status: 'processing',
        total: 2,
        pending: 1,
        processing: 0,
        completed: 1,
        failed: 0,
        cancelled: 0,
      });
      expect(b.completed_at).toBeNull();
      const again = await claimOne(h.store, { type: 'bad' });
      expect(again.attempts).toBe(1);
    });

    it('retries a cancelled job; refuses pending, processing and completed ones', async () => {
      const { job } = await h.store.createJob(newJob({ job_type: 'x' }));
      await h.store.cancelJob(job.job_id);
      expect((await h.store.retryJob(job.job_id)).outcome).toBe('retried');
      expect((await mustGetJob(h.store, job.job_id)).status).toBe('pending');
      const pendingRes = await h.store.retryJob(job.job_id);
      expect(pendingRes.outcome).toBe('not_retryable');
      const running = await claimOne(h.store, { type: 'x' });
      expect((await h.store.retryJob(running.job_id)).outcome).toBe('not_retryable');
      expect(await h.store.complete(leaseOf(running), {})).toBe(true);
      const res = await h.store.retryJob(running.job_id);
      expect(res.outcome).toBe('not_retryable');
      if (res.outcome === 'not_retryable') expect(res.job.status).toBe('completed');
      expect((await mustGetJob(h.store, running.job_id)).status).toBe('completed');
      expect(await h.store.retryJob('job-unknown')).toEqual({ outcome: 'not_found' });
    });
  });

  describe('deleteJob', () => {
    it('refuses a running job and removes others with their outbox records and deliveries', async () => {
      const running = await createAndClaim(h.store, { webhook: WEBHOOK });
      expect(await h.store.deleteJob(running.job_id)).toBe('running');
      expect((await mustGetJob(h.store, running.job_id)).status).toBe('processing');

      expect(await h.store.complete(leaseOf(running), {})).toBe(true);
      const [rec] = await h.store.claimOutbox({ owner: 'o', limit: 10, leaseMs: 30_000 });
      const attempt = {
        event_id: rec!.event_id,
        kind: rec!.kind,
        attempt: 1,
        at: new Date().toISOString(),
        status_code: 200,
        latency_ms: 3,
        error: null,
        outcome: 'delivered' as const,
      };
      expect(
        await h.store.finishOutbox(rec!.event_id, 'o', { outcome: 'delivered', attempt }),
      ).toBe(true);
      expect(await h.store.getDeliveries(running.job_id)).toHaveLength(1);
      expect(await h.store.deleteJob(running.job_id)).toBe('deleted');
      expect(await h.store.getJob(running.job_id)).toBeNull();
      expect(await h.store.listOutbox(running.job_id)).toEqual([]);
      expect(await h.store.getDeliveries(running.job_id)).toEqual([]);

      const { job: pending } = await h.store.createJob(newJob({ webhook: WEBHOOK }));
      await h.store.cancelJob(pending.job_id);
      expect(await h.store.deleteJob(pending.job_id)).toBe('deleted');
      expect(await drainOutbox(h.store)).toEqual([]);
      expect(await h.store.deleteJob(pending.job_id)).toBe('not_found');
    });

    it('takes the job out of its batch counters and re-derives the batch status', async () => {
      const { batch, jobs } = await h.store.createBatch({
        jobs: [newJob({ job_type: 'd1' }), newJob({ job_type: 'd2' }), newJob({ job_type: 'd3' })],
      });
      const done = await claimOne(h.store, { type: 'd1' });
      expect(await h.store.complete(leaseOf(done), {})).toBe(true);
      expect(await h.store.deleteJob(done.job_id)).toBe('deleted');
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toEqual({
        status: 'pending',
        total: 2,
        pending: 2,
        processing: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      });
      const d2 = await claimOne(h.store, { type: 'd2' });
      expect(await h.store.complete(leaseOf(d2), {})).toBe(true);
      expect(await h.store.deleteJob(jobs[2]!.job_id)).toBe('deleted');
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toEqual({
        status: 'completed',
        total: 1,
        pending: 0,
        processing: 0,
        completed: 1,
        failed: 0,
        cancelled: 0,
      });
    });
  });

  describe('addJobLog', () => {
    it('appends without a lease, on any existing job; false for unknown ids', async () => {
      const c = await createAndClaim(h.store);
      expect(await h.store.complete(leaseOf(c), {})).toBe(true);
      expect(
        await h.store.addJobLog(c.job_id, { ...logEntry('from the API'), level: 'loud' as never }),
      ).toBe(true);
      const j = await mustGetJob(h.store, c.job_id);
      expect(j.logs.at(-1)).toMatchObject({ level: 'info', message: 'from the API' });
      expect(j.status).toBe('completed');
      expect(await h.store.addJobLog('job-unknown', logEntry('x'))).toBe(false);
    });

    it('caps entries like appendLog', async () => {
      const store = await h.open({ limits: { maxLogEntries: 3, maxLogMessage: 10 } });
      const { job } = await store.createJob(newJob());
      for (let i = 0; i < 5; i += 1) await store.addJobLog(job.job_id, logEntry(`entry-${i}`));
      const logs = (await mustGetJob(store, job.job_id)).logs;
      expect(logs).toHaveLength(3);
      expect(logs.map((l) => l.message.slice(0, 7))).toEqual(['entry-2', 'entry-3', 'entry-4']);
    });
  });
};
