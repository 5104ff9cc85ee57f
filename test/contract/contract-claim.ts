/** Contract: claim (order, types, room, cluster caps, fields, batch counters) and claim races. */
import { describe, expect, it } from 'vitest';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  counters,
  expectInstantBetween,
  isoIn,
  jobError,
  leaseOf,
  mustGetBatch,
  mustGetJob,
  newJob,
} from '../helpers/store-fixtures.js';

export const registerClaimTests = (h: ContractHarness): void => {
  describe('claim', () => {
    it('sets status, attempts, lease fields and version on the claimed job', async () => {
      const { job } = await h.store.createJob(newJob({ job_type: 'a' }));
      const before = Date.now();
      const got = await h.store.claim({ owner: 'w1', limit: 5, types: { a: 5 }, leaseMs: 30_000 });
      const after = Date.now();
      expect(got).toHaveLength(1);
      const c = got[0]!;
      expect(c).toMatchObject({
        job_id: job.job_id,
        status: 'processing',
        attempts: 1,
        lease_owner: 'w1',
        progress: null,
        version: 2,
      });
      expect(typeof c.lease_token).toBe('string');
      expect(c.lease_token.length).toBeGreaterThan(0);
      expectInstantBetween(c.lease_expires_at, before + 30_000, after + 30_000);
      expectInstantBetween(c.processing_started_at, before, after);
      const stored = await mustGetJob(h.store, job.job_id);
      expect(stored).toMatchObject({
        status: 'processing',
        attempts: 1,
        lease_owner: 'w1',
        version: 2,
      });
      expect(stored.lease_expires_at).toBe(c.lease_expires_at);
      // the claimed job is the stored job, field for field (plus its lease token)
      expect(c).toEqual({ ...stored, lease_token: c.lease_token });
      expect(
        await h.store.claim({ owner: 'w2', limit: 5, types: { a: 5 }, leaseMs: 30_000 }),
      ).toEqual([]);
    });

    it('claims FIFO within a priority and higher priority first', async () => {
      const order: string[] = [];
      const mk = async (priority: number): Promise<string> =>
        (await h.store.createJob(newJob({ job_type: 'q', priority }))).job.job_id;
      const low1 = await mk(0);
      const high1 = await mk(10);
      const low2 = await mk(0);
      const mid = await mk(5);
      const high2 = await mk(10);
      const low3 = await mk(0);
      for (let i = 0; i < 6; i += 1) order.push((await claimOne(h.store, { type: 'q' })).job_id);
      expect(order).toEqual([high1, high2, mid, low1, low2, low3]);
    });

    it('orders by run_at before creation order within a priority', async () => {
      const later = (await h.store.createJob(newJob({ job_type: 'q' }))).job.job_id;
      const earlier = (await h.store.createJob(newJob({ job_type: 'q', run_at: isoIn(-60_000) })))
        .job.job_id;
      const got = await h.store.claim({ owner: 'w', limit: 2, types: { q: 2 }, leaseMs: 30_000 });
      expect(got.map((j) => j.job_id)).toEqual([earlier, later]);
    });

    it('keeps FIFO across types when some types have less room than the limit', async () => {
      const b1 = (await h.store.createJob(newJob({ job_type: 'b' }))).job.job_id;
      const a1 = (await h.store.createJob(newJob({ job_type: 'a' }))).job.job_id;
      const b2 = (await h.store.createJob(newJob({ job_type: 'b' }))).job.job_id;
      const a2 = (await h.store.createJob(newJob({ job_type: 'a' }))).job.job_id;
      const got = await h.store.claim({
        owner: 'w',
        limit: 2,
        types: { a: 1, b: 5 },
        leaseMs: 30_000,
      });
      expect(got.map((j) => j.job_id).sort()).toEqual([b1, a1].sort());
      const rest = await h.store.claim({
        owner: 'w',
        limit: 5,
        types: { a: 5, b: 5 },
        leaseMs: 30_000,
      });
      // Jobs claimed in one call come back in queue order (the worker starts them in that order).
      expect(rest.map((j) => j.job_id)).toEqual([b2, a2]);
    });

    it('claims jobs of one batch in their input order', async () => {
      const { jobs } = await h.store.createBatch({
        jobs: Array.from({ length: 6 }, (_, i) => newJob({ job_type: 'page', parameters: { i } })),
      });
      const order: string[] = [];
      for (let i = 0; i < 6; i += 1) order.push((await claimOne(h.store, { type: 'page' })).job_id);
      expect(order).toEqual(jobs.map((j) => j.job_id));
    });

    it('does not claim jobs whose run_at is in the future', async () => {
      await h.store.createJob(newJob({ job_type: 'later', run_at: isoIn(60_000) }));
      const now = (await h.store.createJob(newJob({ job_type: 'later', run_at: isoIn(-1) }))).job;
      const got = await h.store.claim({
        owner: 'w',
        limit: 10,
        types: { later: 10 },
        leaseMs: 30_000,
      });
      expect(got.map((j) => j.job_id)).toEqual([now.job_id]);
    });

    it('claims only listed types, at most their room each, at most limit in total', async () => {
      for (let i = 0; i < 3; i += 1) {
        await h.store.createJob(newJob({ job_type: 'a' }));
        await h.store.createJob(newJob({ job_type: 'b' }));
        await h.store.createJob(newJob({ job_type: 'c' }));
        await h.store.createJob(newJob({ job_type: 'z' }));
      }
      const got = await h.store.claim({
        owner: 'w',
        limit: 10,
        types: { a: 1, b: 5, z: 0 },
        leaseMs: 30_000,
      });
      const byType = (t: string): number => got.filter((j) => j.job_type === t).length;
      expect([byType('a'), byType('b'), byType('c'), byType('z')]).toEqual([1, 3, 0, 0]);
      const capped = await h.store.claim({
        owner: 'w',
        limit: 2,
        types: { a: 5, c: 5 },
        leaseMs: 30_000,
      });
      expect(capped).toHaveLength(2);
      expect(await h.store.claim({ owner: 'w', limit: 5, types: {}, leaseMs: 30_000 })).toEqual([]);
    });

    it('honours clusterLimits, counting jobs already processing under any owner', async () => {
      for (let i = 0; i < 6; i += 1) await h.store.createJob(newJob({ job_type: 'gpu' }));
      await h.store.createJob(newJob({ job_type: 'cpu' }));
      const other = await h.store.claim({
        owner: 'other-host',
        limit: 1,
        types: { gpu: 1 },
        leaseMs: 30_000,
      });
      expect(other).toHaveLength(1);
      const mine = await h.store.claim({
        owner: 'me',
        limit: 10,
        types: { gpu: 10, cpu: 10 },
        clusterLimits: { gpu: 3 },
        leaseMs: 30_000,
      });
      expect(mine.filter((j) => j.job_type === 'gpu')).toHaveLength(2);
      expect(mine.filter((j) => j.job_type === 'cpu')).toHaveLength(1);
      expect(
        await h.store.claim({
          owner: 'me',
          limit: 10,
          types: { gpu: 10 },
          clusterLimits: { gpu: 3 },
          leaseMs: 30_000,
        }),
      ).toEqual([]);
      // Room frees up when one finishes.
      expect(await h.store.complete(leaseOf(other[0]!), {})).toBe(true);
      const again = await h.store.claim({
        owner: 'me',
        limit: 10,
        types: { gpu: 10 },
        clusterLimits: { gpu: 3 },
        leaseMs: 30_000,
      });
      expect(again).toHaveLength(1);
    });

    it('resets progress, keeps the last error, counts the attempt and issues a new token on re-claim', async () => {
      const { job } = await h.store.createJob(newJob({ job_type: 'r', max_attempts: 5 }));
      const first = await claimOne(h.store, { type: 'r' });
      expect(
        await h.store.updateProgress(leaseOf(first), { step: 'half', percent: 60, message: null }),
      ).toBe(true);
      const err = jobError('DOWNLOAD_FAILED', 'network down');
      expect(await h.store.fail(leaseOf(first), err, { retryAt: isoIn(-1) })).toBe(true);
      const second = await claimOne(h.store, { type: 'r' });
      expect(second.job_id).toBe(job.job_id);
      expect(second.lease_token).not.toBe(first.lease_token);
      expect(second).toMatchObject({ attempts: 2, progress: null, status: 'processing' });
      expect(second.error).toMatchObject({ code: 'DOWNLOAD_FAILED', message: 'network down' });
    });

    it('issues different lease tokens to different claim calls', async () => {
      await h.store.createJobs([newJob({ job_type: 't1' }), newJob({ job_type: 't1' })]);
      const a = await claimOne(h.store, { type: 't1' });
      const b = await claimOne(h.store, { type: 't1' });
      expect(a.lease_token).not.toBe(b.lease_token);
    });

    it('moves batch counters pending → processing and the batch to processing', async () => {
      const { batch } = await h.store.createBatch({
        jobs: [newJob({ job_type: 'bt' }), newJob({ job_type: 'bt' }), newJob({ job_type: 'bt' })],
      });
      await claimOne(h.store, { type: 'bt' });
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toEqual({
        status: 'processing',
        total: 3,
        pending: 2,
        processing: 1,
        completed: 0,
        failed: 0,
        cancelled: 0,
      });
    });
  });

  describe('claim races', () => {
    it('hands every job to exactly one of several concurrent claimers', async () => {
      const n = 40;
      await h.store.createJobs(
        Array.from({ length: n }, (_, i) => newJob({ job_type: 'race', parameters: { i } })),
      );
      const handles = await h.peers(6);
      const owners = new Map<string, string[]>();
      await Promise.all(
        handles.map(async (s, k) => {
          for (;;) {
            const got = await s.claim({
              owner: `w${k}`,
              limit: 3,
              types: { race: 3 },
              leaseMs: 30_000,
            });
            if (got.length === 0) return;
            for (const j of got) owners.set(j.job_id, [...(owners.get(j.job_id) ?? []), `w${k}`]);
          }
        }),
      );
      expect(owners.size).toBe(n);
      expect([...owners.values()].filter((o) => o.length !== 1)).toEqual([]);
      for (const [jobId, [owner]] of owners) {
        expect(await mustGetJob(h.store, jobId)).toMatchObject({
          status: 'processing',
          attempts: 1,
          lease_owner: owner,
        });
      }
    });

    it('gives a single job to exactly one claimer, round after round', async () => {
      const handles = await h.peers(4);
      for (let round = 0; round < 10; round += 1) {
        const type = `single-${round}`;
        await h.store.createJob(newJob({ job_type: type }));
        const results = await Promise.all(
          [...handles, ...handles].map((s, k) =>
            s.claim({ owner: `w${k}`, limit: 1, types: { [type]: 1 }, leaseMs: 30_000 }),
          ),
        );
        expect(results.flat()).toHaveLength(1);
      }
    });

    it('never exceeds clusterLimits under concurrent claims', async () => {
      await h.store.createJobs(Array.from({ length: 20 }, () => newJob({ job_type: 'cap' })));
      const handles = await h.peers(5);
      const results = await Promise.all(
        [...handles, ...handles].map((s, k) =>
          s.claim({
            owner: `w${k}`,
            limit: 2,
            types: { cap: 2 },
            clusterLimits: { cap: 3 },
            leaseMs: 30_000,
          }),
        ),
      );
      const claimed = results.flat();
      expect(claimed.length).toBeLessThanOrEqual(3);
      const more = await h.store.claim({
        owner: 'late',
        limit: 5,
        types: { cap: 5 },
        clusterLimits: { cap: 3 },
        leaseMs: 30_000,
      });
      expect(claimed.length + more.length).toBe(3);
      expect((await h.store.listJobs({ status: 'processing' })).items).toHaveLength(3);
    });
  });
};
