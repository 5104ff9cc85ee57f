/** Contract: listJobs and listBatches (filters, newest first, cursor pagination). */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/job.js';
import type { JobFilter, JobStore } from '../../src/store/job-store.js';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  expectSecretaryError,
  jobError,
  leaseOf,
  newJob,
} from '../helpers/store-fixtures.js';

/** Creates jobs one call at a time, so creation order is unambiguous. */
const createInOrder = async (
  store: JobStore,
  n: number,
  extra: Parameters<typeof newJob>[0] = {},
): Promise<Job[]> => {
  const jobs: Job[] = [];
  for (let i = 0; i < n; i += 1)
    jobs.push((await store.createJob(newJob({ ...extra, parameters: { i } }))).job);
  return jobs;
};

/** Follows cursors to the end; returns every page's ids. */
const allPages = async (store: JobStore, filter: JobFilter, limit: number): Promise<string[][]> => {
  const pages: string[][] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 100; guard += 1) {
    const page = await store.listJobs(filter, { limit, cursor });
    pages.push(page.items.map((j) => j.job_id));
    if (page.next_cursor === null) return pages;
    cursor = page.next_cursor;
  }
  throw new Error('pagination never ended');
};

const ids = (jobs: { job_id: string }[]): string[] => jobs.map((j) => j.job_id);

const BAD_CURSORS = [
  'not a cursor!',
  'Zm9v',
  Buffer.from('{"a":1}', 'utf8').toString('base64url'),
  // Well-formed JSON tuple that this store did not produce: must not reach the query as garbage.
  Buffer.from('["nope",{"x":1}]', 'utf8').toString('base64url'),
];

export const registerListTests = (h: ContractHarness): void => {
  describe('listJobs', () => {
    it('returns jobs newest first (creation order descending)', async () => {
      const jobs = await createInOrder(h.store, 5);
      const page = await h.store.listJobs({});
      expect(ids(page.items)).toEqual(ids(jobs).reverse());
      expect(page.next_cursor).toBeNull();
    });

    it('filters by status (one or many), job_type, batch_id, user_id, external_id', async () => {
      const pending = (
        await h.store.createJob(newJob({ job_type: 'p', user_id: 'alice', external_id: 'x-1' }))
      ).job;
      await h.store.createJob(newJob({ job_type: 'r', user_id: 'bob' }));
      const running = await claimOne(h.store, { type: 'r' });
      await h.store.createJob(newJob({ job_type: 'c', user_id: 'alice' }));
      const done = await claimOne(h.store, { type: 'c' });
      expect(await h.store.complete(leaseOf(done), {})).toBe(true);
      const cancelled = (await h.store.createJob(newJob({ job_type: 'x' }))).job;
      await h.store.cancelJob(cancelled.job_id);
      await h.store.createJob(newJob({ job_type: 'f' }));
      const failed = await claimOne(h.store, { type: 'f' });
      expect(await h.store.fail(leaseOf(failed), jobError())).toBe(true);
      const { batch, jobs: inBatch } = await h.store.createBatch({
        jobs: [newJob({ job_type: 'p' }), newJob({ job_type: 'p' })],
      });

      const q = async (f: JobFilter): Promise<string[]> =>
        ids((await h.store.listJobs(f)).items).sort();
      expect(await q({ status: 'pending' })).toEqual([pending.job_id, ...ids(inBatch)].sort());
      expect(await q({ status: 'processing' })).toEqual([running.job_id]);
      expect(await q({ status: ['completed', 'cancelled'] })).toEqual(
        [done.job_id, cancelled.job_id].sort(),
      );
      expect(await q({ status: ['failed'] })).toEqual([failed.job_id]);
      expect(await q({ job_type: 'c' })).toEqual([done.job_id]);
      expect(await q({ batch_id: batch.batch_id })).toEqual(ids(inBatch).sort());
      expect(await q({ user_id: 'alice' })).toEqual([pending.job_id, done.job_id].sort());
      expect(await q({ external_id: 'x-1' })).toEqual([pending.job_id]);
      expect(await q({ external_id: 'x-unknown' })).toEqual([]);
      expect(await q({ user_id: 'alice', status: 'completed' })).toEqual([done.job_id]);
      expect(await q({ job_type: 'p', batch_id: batch.batch_id, status: 'pending' })).toEqual(
        ids(inBatch).sort(),
      );
    });

    it('filters visible_to: owner, read_access or public visibility', async () => {
      const own = (await h.store.createJob(newJob({ user_id: 'u1' }))).job;
      const shared = (
        await h.store.createJob(
          newJob({
            user_id: 'u2',
            access_control: {
              visibility: 'private',
              read_access: ['u2', 'u1'],
              write_access: ['u2'],
              admin_access: ['u2'],
            },
          }),
        )
      ).job;
      const pub = (
        await h.store.createJob(
          newJob({
            user_id: 'u3',
            access_control: {
              visibility: 'public',
              read_access: ['u3'],
              write_access: ['u3'],
              admin_access: ['u3'],
            },
          }),
        )
      ).job;
      await h.store.createJob(newJob({ user_id: 'u3' }));
      await h.store.createJob(newJob());
      const visible = ids((await h.store.listJobs({ visible_to: 'u1' })).items).sort();
      expect(visible).toEqual([own.job_id, shared.job_id, pub.job_id].sort());
      expect(ids((await h.store.listJobs({ visible_to: 'nobody' })).items)).toEqual([pub.job_id]);
    });

    it('paginates newest first across pages without duplicates or gaps', async () => {
      const jobs = await createInOrder(h.store, 7);
      const pages = await allPages(h.store, {}, 3);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual(ids(jobs).reverse());
    });

    it('keeps pages stable when jobs are created between pages', async () => {
      const jobs = await createInOrder(h.store, 5);
      const first = await h.store.listJobs({}, { limit: 2 });
      const late = (await h.store.createJob(newJob())).job;
      const second = await h.store.listJobs({}, { limit: 10, cursor: first.next_cursor });
      const seen = [...ids(first.items), ...ids(second.items)];
      expect(seen).toEqual(ids(jobs).reverse());
      expect(seen).not.toContain(late.job_id);
    });

    it('paginates a filtered list', async () => {
      const wanted: Job[] = [];
      for (let i = 0; i < 6; i += 1) {
        wanted.push((await h.store.createJob(newJob({ job_type: 'keep', parameters: { i } }))).job);
        await h.store.createJob(newJob({ job_type: 'other' }));
      }
      const pages = await allPages(h.store, { job_type: 'keep' }, 4);
      expect(pages.map((p) => p.length)).toEqual([4, 2]);
      expect(pages.flat()).toEqual(ids(wanted).reverse());
    });

    it('defaults to 50 per page and clamps the limit to 1..1000', async () => {
      await h.store.createJobs(
        Array.from({ length: 1001 }, (_, i) => newJob({ parameters: { i } })),
      );
      const dflt = await h.store.listJobs({});
      expect(dflt.items).toHaveLength(50);
      expect(dflt.next_cursor).not.toBeNull();
      const big = await h.store.listJobs({}, { limit: 5000 });
      expect(big.items).toHaveLength(1000);
      const tail = await h.store.listJobs({}, { limit: 5000, cursor: big.next_cursor });
      expect(tail.items).toHaveLength(1);
      expect(tail.next_cursor).toBeNull();
      expect(new Set([...ids(big.items), ...ids(tail.items)]).size).toBe(1001);
      expect((await h.store.listJobs({}, { limit: 0 })).items).toHaveLength(1);
    });

    it('rejects a cursor it did not produce with INVALID_PARAMETERS', async () => {
      await createInOrder(h.store, 3);
      for (const cursor of BAD_CURSORS) {
        await expectSecretaryError(
          h.store.listJobs({}, { limit: 2, cursor }),
          'INVALID_PARAMETERS',
        );
      }
      expect((await h.store.listJobs({})).items).toHaveLength(3);
    });
  });

  describe('listBatches', () => {
    it('lists batches newest first with filters and pagination', async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const { batch } = await h.store.createBatch({
          batch_name: `b${i}`,
          user_id: i % 2 === 0 ? 'even' : 'odd',
          jobs: [newJob({ job_type: `bt${i}` })],
        });
        made.push(batch.batch_id);
      }
      const empty = (await h.store.createBatch({ jobs: [], user_id: 'odd' })).batch;
      made.push(empty.batch_id);
      const all = await h.store.listBatches({});
      expect(all.items.map((b) => b.batch_id)).toEqual([...made].reverse());
      expect(all.next_cursor).toBeNull();

      const p1 = await h.store.listBatches({}, { limit: 4 });
      expect(p1.next_cursor).not.toBeNull();
      const p2 = await h.store.listBatches({}, { limit: 4, cursor: p1.next_cursor });
      expect(p2.next_cursor).toBeNull();
      expect([...p1.items, ...p2.items].map((b) => b.batch_id)).toEqual([...made].reverse());

      expect(
        (await h.store.listBatches({ status: 'completed' })).items.map((b) => b.batch_id),
      ).toEqual([empty.batch_id]);
      expect((await h.store.listBatches({ status: ['pending', 'completed'] })).items).toHaveLength(
        6,
      );
      expect(
        (await h.store.listBatches({ user_id: 'even' })).items.map((b) => b.batch_name),
      ).toEqual(['b4', 'b2', 'b0']);
      expect(
        (await h.store.listBatches({ visible_to: 'odd' })).items.map((b) => b.batch_id),
      ).toEqual([empty.batch_id, made[3], made[1]]);
      expect((await h.store.listBatches({ visible_to: 'stranger' })).items).toEqual([]);
    });

    it('rejects a foreign cursor with INVALID_PARAMETERS', async () => {
      await h.store.createBatch({ jobs: [newJob()] });
      for (const cursor of BAD_CURSORS) {
        await expectSecretaryError(h.store.listBatches({}, { cursor }), 'INVALID_PARAMETERS');
      }
    });
  });
};
