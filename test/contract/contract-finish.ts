/** Contract: complete, fail (final and with retryAt), release, and the batch counters they move. */
import { describe, expect, it } from 'vitest';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  counters,
  createAndClaim,
  expectInstantBetween,
  isoIn,
  jobError,
  leaseOf,
  logEntry,
  mustGetBatch,
  mustGetJob,
  newJob,
  WEBHOOK,
} from '../helpers/store-fixtures.js';

export const registerFinishTests = (h: ContractHarness): void => {
  describe('complete', () => {
    it('completes the job: results, progress 100, error cleared, completed_at, lease cleared, logs appended', async () => {
      const { job } = await h.store.createJob(newJob({ job_type: 'done', max_attempts: 5 }));
      const first = await claimOne(h.store, { type: 'done' });
      expect(
        await h.store.fail(leaseOf(first), jobError('DOWNLOAD_FAILED'), { retryAt: isoIn(-1) }),
      ).toBe(true);
      const c = await claimOne(h.store, { type: 'done' });
      const before = Date.now();
      const extra = [logEntry('step 1'), logEntry('step 2', 'debug')];
      expect(await h.store.complete(leaseOf(c), { text: 'hello', pages: [1, 2] }, extra)).toBe(
        true,
      );
      const j = await mustGetJob(h.store, job.job_id);
      expect(j).toMatchObject({
        status: 'completed',
        results: { text: 'hello', pages: [1, 2] },
        progress: { step: 'completed', percent: 100, message: 'Verarbeitung abgeschlossen' },
        error: null,
        lease_owner: null,
        lease_expires_at: null,
        attempts: 2,
        version: c.version + 1,
      });
      expectInstantBetween(j.completed_at, before, Date.now());
      expect(j.logs.slice(-2)).toEqual(extra);
      expect(await h.store.complete(leaseOf(c), { again: true })).toBe(false);
      expect((await mustGetJob(h.store, job.job_id)).results).toEqual({
        text: 'hello',
        pages: [1, 2],
      });
    });

    it('writes a completed outbox record only when the job has a webhook', async () => {
      const hooked = await createAndClaim(h.store, { webhook: WEBHOOK });
      expect(await h.store.complete(leaseOf(hooked), {})).toBe(true);
      expect((await h.store.listOutbox(hooked.job_id)).map((r) => [r.kind, r.status])).toEqual([
        ['completed', 'pending'],
      ]);
      const plain = await createAndClaim(h.store);
      expect(await h.store.complete(leaseOf(plain), {})).toBe(true);
      expect(await h.store.listOutbox(plain.job_id)).toEqual([]);
    });

    it('moves batch counters processing → completed and completes the batch when all are done', async () => {
      const { batch } = await h.store.createBatch({
        jobs: [newJob({ job_type: 'bc' }), newJob({ job_type: 'bc' })],
      });
      const a = await claimOne(h.store, { type: 'bc' });
      expect(await h.store.complete(leaseOf(a), {})).toBe(true);
      let b = await mustGetBatch(h.store, batch.batch_id);
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
      const second = await claimOne(h.store, { type: 'bc' });
      const before = Date.now();
      expect(await h.store.complete(leaseOf(second), {})).toBe(true);
      b = await mustGetBatch(h.store, batch.batch_id);
      expect(counters(b)).toEqual({
        status: 'completed',
        total: 2,
        pending: 0,
        processing: 0,
        completed: 2,
        failed: 0,
        cancelled: 0,
      });
      expectInstantBetween(b.completed_at, before, Date.now());
    });
  });

  describe('fail', () => {
    it('fails the job for good without retryAt', async () => {
      const hooked = await createAndClaim(h.store, { webhook: WEBHOOK });
      const before = Date.now();
      const err = { code: 'CORRUPT_FILE', message: 'bad xref', details: { page: 3 } };
      expect(
        await h.store.fail(leaseOf(hooked), err, undefined, [logEntry('dying', 'error')]),
      ).toBe(true);
      const j = await mustGetJob(h.store, hooked.job_id);
      expect(j).toMatchObject({
        status: 'failed',
        error: err,
        lease_owner: null,
        lease_expires_at: null,
        version: hooked.version + 1,
      });
      expectInstantBetween(j.completed_at, before, Date.now());
      expect(j.logs.at(-1)).toMatchObject({ level: 'error', message: 'dying' });
      expect((await h.store.listOutbox(hooked.job_id)).map((r) => r.kind)).toEqual(['failed']);
      expect(await h.store.fail(leaseOf(hooked), err)).toBe(false);
      const plain = await createAndClaim(h.store);
      expect(await h.store.fail(leaseOf(plain), err)).toBe(true);
      expect(await h.store.listOutbox(plain.job_id)).toEqual([]);
    });

    it('with retryAt: back to pending, not claimable before retryAt, error kept, no outbox record', async () => {
      const { batch } = await h.store.createBatch({
        webhook: WEBHOOK,
        jobs: [newJob({ job_type: 'rt', webhook: WEBHOOK })],
      });
      const c = await claimOne(h.store, { type: 'rt' });
      const retryAt = isoIn(60_000);
      expect(
        await h.store.fail(leaseOf(c), jobError('DOWNLOAD_FAILED', 'try later'), { retryAt }),
      ).toBe(true);
      const j = await mustGetJob(h.store, c.job_id);
      expect(j).toMatchObject({
        status: 'pending',
        run_at: retryAt,
        lease_owner: null,
        lease_expires_at: null,
        completed_at: null,
        attempts: 1,
      });
      expect(j.error).toMatchObject({ code: 'DOWNLOAD_FAILED', message: 'try later' });
      expect(await h.store.listOutbox(c.job_id)).toEqual([]);
      // deriveBatchStatus: no job processing and none terminal → the batch reads `pending` again.
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toEqual({
        status: 'pending',
        total: 1,
        pending: 1,
        processing: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      });
      expect(
        await h.store.claim({ owner: 'w', limit: 1, types: { rt: 1 }, leaseMs: 30_000 }),
      ).toEqual([]);
      // Once due it is claimable again (retryAt in the past: see the claim tests' re-claim case).
    });

    it('fails the batch when any job failed, once all jobs are terminal', async () => {
      const { batch } = await h.store.createBatch({
        jobs: [newJob({ job_type: 'bf' }), newJob({ job_type: 'bf' }), newJob({ job_type: 'bf' })],
      });
      const a = await claimOne(h.store, { type: 'bf' });
      const b = await claimOne(h.store, { type: 'bf' });
      expect(await h.store.fail(leaseOf(a), jobError())).toBe(true);
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toMatchObject({
        status: 'processing',
        pending: 1,
        processing: 1,
        failed: 1,
      });
      expect(await h.store.complete(leaseOf(b), {})).toBe(true);
      const c = await claimOne(h.store, { type: 'bf' });
      expect(await h.store.complete(leaseOf(c), {})).toBe(true);
      const final = await mustGetBatch(h.store, batch.batch_id);
      expect(counters(final)).toEqual({
        status: 'failed',
        total: 3,
        pending: 0,
        processing: 0,
        completed: 2,
        failed: 1,
        cancelled: 0,
      });
      expect(final.completed_at).not.toBeNull();
    });
  });

  describe('release', () => {
    it('hands the job back: pending, attempt not counted, claimable now, warning log, batch counters', async () => {
      const { batch } = await h.store.createBatch({
        jobs: [newJob({ job_type: 'rel', webhook: WEBHOOK })],
      });
      const c = await claimOne(h.store, { type: 'rel' });
      expect(c.attempts).toBe(1);
      const before = Date.now();
      expect(await h.store.release(leaseOf(c), 'worker shutting down')).toBe(true);
      const j = await mustGetJob(h.store, c.job_id);
      expect(j).toMatchObject({
        status: 'pending',
        attempts: 0,
        lease_owner: null,
        lease_expires_at: null,
        completed_at: null,
      });
      expectInstantBetween(j.run_at, before, Date.now());
      expect(j.logs.at(-1)).toMatchObject({ level: 'warning' });
      expect(j.logs.at(-1)?.message).toContain('worker shutting down');
      expect(await h.store.listOutbox(c.job_id)).toEqual([]);
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toMatchObject({
        pending: 1,
        processing: 0,
      });
      expect(await h.store.release(leaseOf(c), 'again')).toBe(false);
      const again = await claimOne(h.store, { type: 'rel' });
      expect(again.attempts).toBe(1);
    });
  });
};
