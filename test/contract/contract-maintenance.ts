/** Contract: reapExpiredLeases, purgeFinished, stats. */
import { describe, expect, it } from 'vitest';
import type { StoreStats } from '../../src/store/job-store.js';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  counters,
  createAndClaim,
  drainOutbox,
  expectInstantBetween,
  isoIn,
  jobError,
  leaseOf,
  mustGetBatch,
  mustGetJob,
  newJob,
  sleep,
  WEBHOOK,
} from '../helpers/store-fixtures.js';

const countOf = (s: StoreStats, jobType: string, status: string): number =>
  s.by_status.find((r) => r.job_type === jobType && r.status === status)?.count ?? 0;

export const registerMaintenanceTests = (h: ContractHarness): void => {
  describe('reapExpiredLeases', () => {
    it('requeues an expired job while attempts remain, then fails it with WORKER_LOST', async () => {
      const { job } = await h.store.createJob(
        newJob({ job_type: 'lost', max_attempts: 2, webhook: WEBHOOK }),
      );
      const alive = await createAndClaim(
        h.store,
        { job_type: 'alive' },
        { owner: 'healthy', leaseMs: 30_000 },
      );
      await claimOne(h.store, { type: 'lost', owner: 'w-crashed', leaseMs: 60 });
      await sleep(150);
      const before = Date.now();
      expect(await h.store.reapExpiredLeases()).toEqual({ requeued: [job.job_id], failed: [] });
      let j = await mustGetJob(h.store, job.job_id);
      expect(j).toMatchObject({
        status: 'pending',
        attempts: 1,
        lease_owner: null,
        lease_expires_at: null,
        completed_at: null,
      });
      expectInstantBetween(j.run_at, before, Date.now());
      const warning = j.logs.find((l) => l.level === 'warning');
      expect(warning?.message).toContain('lease expired');
      expect(warning?.message).toContain('w-crashed');
      expect(await h.store.listOutbox(job.job_id)).toEqual([]);
      expect((await mustGetJob(h.store, alive.job_id)).status).toBe('processing');

      await claimOne(h.store, { type: 'lost', owner: 'w-crashed-again', leaseMs: 60 });
      await sleep(150);
      const beforeFail = Date.now();
      expect(await h.store.reapExpiredLeases()).toEqual({ requeued: [], failed: [job.job_id] });
      j = await mustGetJob(h.store, job.job_id);
      expect(j).toMatchObject({
        status: 'failed',
        attempts: 2,
        error: { code: 'WORKER_LOST' },
        lease_owner: null,
        lease_expires_at: null,
      });
      expectInstantBetween(j.completed_at, beforeFail, Date.now());
      expect((await h.store.listOutbox(job.job_id)).map((r) => r.kind)).toEqual(['failed']);
      expect(await h.store.reapExpiredLeases()).toEqual({ requeued: [], failed: [] });
    });

    it('moves batch counters and writes no outbox record for jobs without webhook', async () => {
      const { batch } = await h.store.createBatch({
        jobs: [
          newJob({ job_type: 'once', max_attempts: 1 }),
          newJob({ job_type: 'twice', max_attempts: 2 }),
        ],
      });
      const once = await claimOne(h.store, { type: 'once', leaseMs: 60 });
      const twice = await claimOne(h.store, { type: 'twice', leaseMs: 60 });
      await sleep(150);
      const reaped = await h.store.reapExpiredLeases();
      expect(reaped.failed).toEqual([once.job_id]);
      expect(reaped.requeued).toEqual([twice.job_id]);
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toEqual({
        status: 'processing',
        total: 2,
        pending: 1,
        processing: 0,
        completed: 0,
        failed: 1,
        cancelled: 0,
      });
      expect(await h.store.listOutbox(once.job_id)).toEqual([]);
      const again = await claimOne(h.store, { type: 'twice', leaseMs: 60 });
      await sleep(150);
      expect(await h.store.reapExpiredLeases()).toEqual({ requeued: [], failed: [again.job_id] });
      const b = await mustGetBatch(h.store, batch.batch_id);
      expect(counters(b)).toMatchObject({ status: 'failed', pending: 0, processing: 0, failed: 2 });
      expect(b.completed_at).not.toBeNull();
    });
  });

  describe('purgeFinished', () => {
    it('removes only terminal jobs finished before the cutoff and returns their parameters and results', async () => {
      const old = await createAndClaim(h.store, {
        job_type: 'old',
        parameters: { file: 'uploads/a.pdf' },
        webhook: WEBHOOK,
      });
      expect(await h.store.complete(leaseOf(old), { dir: 'cache/pdf/a' })).toBe(true);
      const { job: oldCancelled } = await h.store.createJob(
        newJob({ job_type: 'oldc', parameters: { file: 'b' } }),
      );
      await h.store.cancelJob(oldCancelled.job_id);
      const { job: stillPending } = await h.store.createJob(newJob({ job_type: 'p' }));
      const stillRunning = await createAndClaim(h.store, { job_type: 'r' });
      await sleep(20);
      const cutoff = new Date().toISOString();
      await sleep(20);
      const fresh = await createAndClaim(h.store, { job_type: 'fresh' });
      expect(await h.store.fail(leaseOf(fresh), jobError())).toBe(true);

      const res = await h.store.purgeFinished(cutoff);
      const byId = new Map(res.jobs.map((j) => [j.job_id, j]));
      expect([...byId.keys()].sort()).toEqual([old.job_id, oldCancelled.job_id].sort());
      expect(byId.get(old.job_id)).toEqual({
        job_id: old.job_id,
        parameters: { file: 'uploads/a.pdf' },
        results: { dir: 'cache/pdf/a' },
      });
      expect(byId.get(oldCancelled.job_id)).toEqual({
        job_id: oldCancelled.job_id,
        parameters: { file: 'b' },
        results: null,
      });
      expect(res.outbox).toBeGreaterThanOrEqual(1);
      expect(await h.store.getJob(old.job_id)).toBeNull();
      expect(await h.store.listOutbox(old.job_id)).toEqual([]);
      expect(await h.store.getJob(stillPending.job_id)).not.toBeNull();
      expect(await h.store.getJob(stillRunning.job_id)).not.toBeNull();
      expect(await h.store.getJob(fresh.job_id)).not.toBeNull();
      expect((await h.store.purgeFinished(cutoff)).jobs).toEqual([]);
    });

    it('leaves the outbox records of jobs that stay', async () => {
      // Docs: purge removes terminal jobs "with their outbox records"; a job that is not purged keeps its history.
      const live = await createAndClaim(h.store, { webhook: WEBHOOK });
      expect(
        await h.store.updateProgress(leaseOf(live), { step: 's', percent: 10, message: null }),
      ).toBe(true);
      expect((await drainOutbox(h.store)).map((r) => r.kind)).toEqual(['progress']);
      await sleep(5);
      const res = await h.store.purgeFinished(isoIn(1000));
      expect(res).toMatchObject({ jobs: [], outbox: 0 });
      expect((await h.store.listOutbox(live.job_id)).map((r) => [r.kind, r.status])).toEqual([
        ['progress', 'delivered'],
      ]);
    });

    it('honours the limit and keeps a batch while any of its jobs is left', async () => {
      const { batch, jobs } = await h.store.createBatch({ jobs: [newJob(), newJob(), newJob()] });
      for (const j of jobs) await h.store.cancelJob(j.job_id);
      expect((await mustGetBatch(h.store, batch.batch_id)).status).toBe('cancelled');
      await sleep(5);
      const first = await h.store.purgeFinished(isoIn(1000), 2);
      expect(first.jobs).toHaveLength(2);
      expect(first.batches).toBe(0);
      expect((await h.store.listJobs({})).items).toHaveLength(1);
      expect(await h.store.getBatch(batch.batch_id)).not.toBeNull();
      const second = await h.store.purgeFinished(isoIn(1000), 2);
      expect(second.jobs).toHaveLength(1);
      const third = await h.store.purgeFinished(isoIn(1000), 2);
      expect(second.batches + third.batches).toBe(1);
      expect(await h.store.getBatch(batch.batch_id)).toBeNull();
    });

    it('removes terminal batches that have no jobs left, keeps the others', async () => {
      const empty = (await h.store.createBatch({ jobs: [] })).batch;
      const finished = await h.store.createBatch({ jobs: [newJob({ job_type: 'bp' })] });
      const c = await claimOne(h.store, { type: 'bp' });
      expect(await h.store.complete(leaseOf(c), {})).toBe(true);
      const open = await h.store.createBatch({ jobs: [newJob({ job_type: 'bo' })] });
      await sleep(5);
      // One call may remove a batch together with its last jobs, or leave it to the next call: both end empty.
      const first = await h.store.purgeFinished(isoIn(1000));
      const second = await h.store.purgeFinished(isoIn(1000));
      expect(first.jobs.map((j) => j.job_id)).toEqual([c.job_id]);
      expect(first.batches + second.batches).toBe(2);
      expect(await h.store.getBatch(empty.batch_id)).toBeNull();
      expect(await h.store.getBatch(finished.batch.batch_id)).toBeNull();
      expect(await h.store.getBatch(open.batch.batch_id)).not.toBeNull();
      expect((await h.store.listBatches({})).items.map((b) => b.batch_id)).toEqual([
        open.batch.batch_id,
      ]);
    });
  });

  describe('stats', () => {
    it('counts jobs by type and status, ready jobs and pending outbox records', async () => {
      await h.store.createJobs([
        newJob({ job_type: 'a' }),
        newJob({ job_type: 'a' }),
        newJob({ job_type: 'a', run_at: isoIn(60_000) }),
      ]);
      const b = await createAndClaim(h.store, { job_type: 'b' });
      const hooked = await createAndClaim(h.store, { job_type: 'c', webhook: WEBHOOK });
      expect(await h.store.complete(leaseOf(hooked), {})).toBe(true);
      const { job: cancelled } = await h.store.createJob(
        newJob({ job_type: 'c', webhook: WEBHOOK }),
      );
      await h.store.cancelJob(cancelled.job_id);
      const s = await h.store.stats();
      expect(countOf(s, 'a', 'pending')).toBe(3);
      expect(countOf(s, b.job_type, 'processing')).toBe(1);
      expect(countOf(s, 'c', 'completed')).toBe(1);
      expect(countOf(s, 'c', 'cancelled')).toBe(1);
      expect(countOf(s, 'a', 'completed')).toBe(0);
      expect(s.by_status.reduce((n, r) => n + r.count, 0)).toBe(6);
      expect(s.ready).toBe(2);
      expect(s.outbox_pending).toBe(2);
    });
  });
};
