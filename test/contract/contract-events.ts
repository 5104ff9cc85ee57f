/** Contract: events published to subscribers after each commit. */
import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/store/job-store.js';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  createAndClaim,
  eventually,
  isoIn,
  jobError,
  leaseOf,
  logEntry,
  mustGetJob,
  newJob,
  recordEvents,
  sleep,
  WEBHOOK,
} from '../helpers/store-fixtures.js';

const jobEvents = (
  events: StoreEvent[],
  jobId: string,
): { status: string; version: number; percent: number | null }[] =>
  events.flatMap((e) =>
    e.type === 'job' && e.change.job_id === jobId
      ? [
          {
            status: e.change.status,
            version: e.change.version,
            percent: e.change.progress?.percent ?? null,
          },
        ]
      : [],
  );

const enqueuedTypes = (events: StoreEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'enqueued' ? e.job_types : []));

export const registerEventTests = (h: ContractHarness): void => {
  describe('events', () => {
    it('publishes job changes with status, progress and version through a lifecycle', async () => {
      const rec = recordEvents(h.store);
      const { job } = await h.store.createJob(newJob({ job_type: 'ev', user_id: 'u1' }));
      expect(await eventually(() => enqueuedTypes(rec.events).includes('ev'))).toBe(true);
      const c = await claimOne(h.store, { type: 'ev' });
      await h.store.updateProgress(leaseOf(c), { step: 's', percent: 42, message: null });
      await h.store.complete(leaseOf(c), {});
      const finalVersion = (await mustGetJob(h.store, job.job_id)).version;
      expect(
        await eventually(() =>
          jobEvents(rec.events, job.job_id).some((e) => e.status === 'completed'),
        ),
      ).toBe(true);
      const seen = jobEvents(rec.events, job.job_id);
      expect(seen.map((e) => e.status)).toEqual([
        'pending',
        'processing',
        'processing',
        'completed',
      ]);
      expect(seen[2]?.percent).toBe(42);
      expect(seen.at(-1)?.version).toBe(finalVersion);
      const first = rec.events.find((e) => e.type === 'job');
      expect(first?.type === 'job' ? first.change : null).toMatchObject({
        job_type: 'ev',
        user_id: 'u1',
        batch_id: null,
      });
      rec.stop();
    });

    it('publishes enqueued when jobs become claimable again (retry, release, retry scheduling, reap)', async () => {
      const released = await createAndClaim(h.store, { job_type: 'rel' });
      const scheduled = await createAndClaim(h.store, { job_type: 'sched' });
      const failed = await createAndClaim(h.store, { job_type: 'retry' });
      await h.store.fail(leaseOf(failed), jobError());
      await createAndClaim(h.store, { job_type: 'reap' }, { leaseMs: 50 });
      await sleep(120);
      const rec = recordEvents(h.store);
      await h.store.release(leaseOf(released), 'shutdown');
      await h.store.fail(leaseOf(scheduled), jobError(), { retryAt: isoIn(60_000) });
      await h.store.retryJob(failed.job_id);
      await h.store.reapExpiredLeases();
      const want = ['rel', 'sched', 'retry', 'reap'];
      expect(await eventually(() => want.every((t) => enqueuedTypes(rec.events).includes(t)))).toBe(
        true,
      );
      rec.stop();
    });

    it('publishes a job change per claimed job and for a cancel', async () => {
      const jobs = await h.store.createJobs([
        newJob({ job_type: 'many' }),
        newJob({ job_type: 'many' }),
        newJob({ job_type: 'many' }),
      ]);
      const { job: doomed } = await h.store.createJob(newJob({ job_type: 'doomed' }));
      const rec = recordEvents(h.store);
      expect(
        await h.store.claim({ owner: 'w', limit: 3, types: { many: 3 }, leaseMs: 30_000 }),
      ).toHaveLength(3);
      await h.store.cancelJob(doomed.job_id, 'stop');
      const done = (): boolean =>
        jobs.every((j) => jobEvents(rec.events, j.job_id).some((e) => e.status === 'processing')) &&
        jobEvents(rec.events, doomed.job_id).some((e) => e.status === 'cancelled');
      expect(await eventually(done)).toBe(true);
      rec.stop();
    });

    it('publishes batch status changes', async () => {
      const { batch } = await h.store.createBatch({ jobs: [newJob({ job_type: 'be' })] });
      const rec = recordEvents(h.store);
      const c = await claimOne(h.store, { type: 'be' });
      await h.store.complete(leaseOf(c), {});
      const statuses = (): string[] =>
        rec.events.flatMap((e) =>
          e.type === 'batch' && e.batch_id === batch.batch_id ? [e.status] : [],
        );
      expect(await eventually(() => statuses().includes('completed'))).toBe(true);
      expect(statuses()).toEqual(['processing', 'completed']);
      rec.stop();
    });

    it('publishes outbox wakeups when records are added, none for jobs without webhook', async () => {
      const plain = await createAndClaim(h.store);
      const hooked = await createAndClaim(h.store, { webhook: WEBHOOK });
      const rec = recordEvents(h.store);
      await h.store.updateProgress(leaseOf(plain), { step: 's', percent: 5, message: null });
      await h.store.complete(leaseOf(plain), {});
      await sleep(50);
      expect(rec.events.filter((e) => e.type === 'outbox')).toEqual([]);
      await h.store.updateProgress(leaseOf(hooked), { step: 's', percent: 5, message: null });
      expect(await eventually(() => rec.events.some((e) => e.type === 'outbox'))).toBe(true);
      rec.stop();
    });

    it('does not publish for appendLog', async () => {
      const c = await createAndClaim(h.store);
      const rec = recordEvents(h.store);
      await h.store.appendLog(leaseOf(c), logEntry('quiet'));
      await sleep(50);
      expect(rec.events).toEqual([]);
      rec.stop();
    });

    it('survives a throwing listener and stops publishing after unsubscribe', async () => {
      const stopThrower = h.store.subscribe(() => {
        throw new Error('listener bug');
      });
      const rec = recordEvents(h.store);
      const { job } = await h.store.createJob(newJob({ job_type: 'thr' }));
      const c = await claimOne(h.store, { type: 'thr' });
      expect(await h.store.complete(leaseOf(c), {})).toBe(true);
      expect((await mustGetJob(h.store, job.job_id)).status).toBe('completed');
      expect(
        await eventually(() =>
          jobEvents(rec.events, job.job_id).some((e) => e.status === 'completed'),
        ),
      ).toBe(true);
      stopThrower();
      rec.stop();
      const count = rec.events.length;
      await h.store.createJob(newJob({ job_type: 'after' }));
      await sleep(50);
      expect(rec.events).toHaveLength(count);
    });
  });
};
