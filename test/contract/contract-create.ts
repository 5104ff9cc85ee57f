/** Contract: createJob, createJobs, createBatch, reads, and bad input. */
import { describe, expect, it } from 'vitest';
import { defaultAccessControl } from '../../src/core/job.js';
import type { ContractHarness } from './contract-harness.js';
import {
  counters,
  expectInstantBetween,
  expectSecretaryError,
  mustGetBatch,
  newJob,
  WEBHOOK,
} from '../helpers/store-fixtures.js';

/** Values that must survive the store exactly (JSON has no NUL-safe story on every backend, so no U+0000). */
const oddParameters = (): Record<string, unknown> => ({
  nested: { a: { b: { c: [1, 2, { d: null, e: [true, false] }] } } },
  deep: JSON.parse(`${'{"x":'.repeat(40)}1${'}'.repeat(40)}`) as unknown,
  unicode: 'Grüße aus Köln — 日本語 — עברית — 🎉👩‍👩‍👧 — e\u0301 — \u200b',
  quotes: `'"\`\\ back\\slash; '); DROP TABLE jobs; --`,
  newlines: 'line1\nline2\r\nline3\ttab',
  numbers: [0, -1, 1.5, 1e-9, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
  empty: { obj: {}, arr: [], str: '' },
  'key.with.dots': 'dots',
  'key with spaces': 'spaces',
  large: 'x'.repeat(1_000_000) + 'ü',
});

export const registerCreateTests = (h: ContractHarness): void => {
  describe('createJob and reads', () => {
    it('creates a pending job with the documented defaults', async () => {
      const before = Date.now();
      const { job, created } = await h.store.createJob(
        newJob({ job_type: 'pdf', parameters: { a: 1 }, user_id: 'u1' }),
      );
      const after = Date.now();
      expect(created).toBe(true);
      expect(job.job_id).toMatch(/^job-/);
      expect(job).toMatchObject({
        job_type: 'pdf',
        status: 'pending',
        parameters: { a: 1 },
        version: 1,
        attempts: 0,
        max_attempts: 3,
        priority: 0,
        logs: [],
        progress: null,
        results: null,
        error: null,
        webhook: null,
        batch_id: null,
        user_id: 'u1',
        external_id: null,
        processing_started_at: null,
        completed_at: null,
        lease_owner: null,
        lease_expires_at: null,
      });
      expect(job.access_control).toEqual(defaultAccessControl('u1'));
      expectInstantBetween(job.created_at, before, after);
      expectInstantBetween(job.updated_at, before, after);
      expectInstantBetween(job.run_at, before, after);
      expect(await h.store.getJob(job.job_id)).toEqual(job);
      expect(await h.store.getJobVersion(job.job_id)).toBe(1);
    });

    it('keeps given fields (priority, run_at, max_attempts, job_id, webhook, access_control)', async () => {
      const runAt = '2031-02-03T04:05:06.789Z';
      const ac = {
        visibility: 'public' as const,
        read_access: ['x'],
        write_access: [],
        admin_access: [],
      };
      const { job } = await h.store.createJob(
        newJob({
          job_id: 'job-custom-1',
          priority: 7,
          run_at: runAt,
          max_attempts: 5,
          webhook: WEBHOOK,
          access_control: ac,
        }),
      );
      expect(job).toMatchObject({
        job_id: 'job-custom-1',
        priority: 7,
        run_at: runAt,
        max_attempts: 5,
        access_control: ac,
      });
      expect(job.webhook).toMatchObject({ url: WEBHOOK.url, token: WEBHOOK.token });
      expect(await h.store.getJob('job-custom-1')).toEqual(job);
    });

    it('answers null for unknown ids', async () => {
      expect(await h.store.getJob('job-does-not-exist')).toBeNull();
      expect(await h.store.getJobByExternalId('nope')).toBeNull();
      expect(await h.store.getJobVersion('job-does-not-exist')).toBeNull();
      expect(await h.store.getBatch('batch-does-not-exist')).toBeNull();
    });

    it('is idempotent on external_id: returns the existing job, created:false, writes nothing', async () => {
      const first = await h.store.createJob(newJob({ external_id: 'ext-1', parameters: { v: 1 } }));
      const second = await h.store.createJob(
        newJob({ external_id: 'ext-1', parameters: { v: 2 }, priority: 9 }),
      );
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.job).toEqual(first.job);
      expect(await h.store.getJobByExternalId('ext-1')).toEqual(first.job);
      expect((await h.store.listJobs({})).items.map((j) => j.job_id)).toEqual([first.job.job_id]);
      expect(await h.store.getJobVersion(first.job.job_id)).toBe(1);
    });

    it('creates a job once when the same external_id races on several connections', async () => {
      const handles = await h.peers(4);
      const results = await Promise.all(
        [...handles, ...handles].map((s, i) =>
          s.createJob(newJob({ external_id: 'ext-race', parameters: { i } })),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.job.job_id)).size).toBe(1);
      expect((await h.store.listJobs({ external_id: 'ext-race' })).items).toHaveLength(1);
    });
  });

  describe('createJobs', () => {
    it('creates all jobs in input order', async () => {
      const jobs = await h.store.createJobs([
        newJob({ parameters: { i: 0 } }),
        newJob({ parameters: { i: 1 } }),
        newJob({ parameters: { i: 2 } }),
      ]);
      expect(jobs.map((j) => j.parameters)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
      expect(jobs.every((j) => j.status === 'pending' && j.version === 1)).toBe(true);
      expect((await h.store.listJobs({})).items).toHaveLength(3);
      expect(await h.store.createJobs([])).toEqual([]);
    });

    it('throws DUPLICATE_EXTERNAL_ID and creates nothing when an external_id exists', async () => {
      const { job } = await h.store.createJob(newJob({ external_id: 'dup' }));
      await expectSecretaryError(
        h.store.createJobs([
          newJob({ external_id: 'fresh-1' }),
          newJob({ external_id: 'dup' }),
          newJob(),
        ]),
        'DUPLICATE_EXTERNAL_ID',
      );
      expect((await h.store.listJobs({})).items.map((j) => j.job_id)).toEqual([job.job_id]);
      expect(await h.store.getJobByExternalId('fresh-1')).toBeNull();
    });

    it('throws DUPLICATE_EXTERNAL_ID and creates nothing when an external_id repeats in the call', async () => {
      await expectSecretaryError(
        h.store.createJobs([
          newJob({ external_id: 'twice' }),
          newJob(),
          newJob({ external_id: 'twice' }),
        ]),
        'DUPLICATE_EXTERNAL_ID',
      );
      expect((await h.store.listJobs({})).items).toEqual([]);
    });
  });

  describe('createBatch', () => {
    it('creates the batch and its jobs with pending counters', async () => {
      const before = Date.now();
      const { batch, jobs } = await h.store.createBatch({
        batch_name: 'invoices',
        user_id: 'u1',
        jobs: [
          newJob({ parameters: { i: 0 } }),
          newJob({ parameters: { i: 1 } }),
          newJob({ parameters: { i: 2 } }),
        ],
      });
      expect(batch.batch_id).toMatch(/^batch-/);
      expect(batch).toMatchObject({
        batch_name: 'invoices',
        user_id: 'u1',
        completed_at: null,
        webhook: null,
      });
      expect(counters(batch)).toEqual({
        status: 'pending',
        total: 3,
        pending: 3,
        processing: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      });
      expectInstantBetween(batch.created_at, before, Date.now());
      expect(jobs.map((j) => j.parameters)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
      expect(jobs.every((j) => j.batch_id === batch.batch_id && j.status === 'pending')).toBe(true);
      expect(await h.store.getBatch(batch.batch_id)).toEqual(batch);
      const listed = await h.store.listJobs({ batch_id: batch.batch_id });
      expect(listed.items.map((j) => j.job_id).sort()).toEqual(jobs.map((j) => j.job_id).sort());
    });

    it('defaults batch_name to the batch_id', async () => {
      const { batch } = await h.store.createBatch({ jobs: [newJob()] });
      expect(batch.batch_name).toBe(batch.batch_id);
      const named = await h.store.createBatch({ batch_name: null, jobs: [newJob()] });
      expect(named.batch.batch_name).toBe(named.batch.batch_id);
    });

    it('completes an empty batch at once', async () => {
      const before = Date.now();
      const { batch, jobs } = await h.store.createBatch({ batch_name: 'empty', jobs: [] });
      expect(jobs).toEqual([]);
      expect(counters(batch)).toEqual({
        status: 'completed',
        total: 0,
        pending: 0,
        processing: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      });
      expectInstantBetween(batch.completed_at, before, Date.now());
      expect(counters(await mustGetBatch(h.store, batch.batch_id))).toEqual(counters(batch));
    });

    it('throws DUPLICATE_EXTERNAL_ID and creates neither batch nor jobs', async () => {
      await h.store.createJob(newJob({ external_id: 'taken' }));
      await expectSecretaryError(
        h.store.createBatch({
          jobs: [newJob({ external_id: 'new-1' }), newJob({ external_id: 'taken' })],
        }),
        'DUPLICATE_EXTERNAL_ID',
      );
      await expectSecretaryError(
        h.store.createBatch({
          jobs: [newJob({ external_id: 'same' }), newJob({ external_id: 'same' })],
        }),
        'DUPLICATE_EXTERNAL_ID',
      );
      expect((await h.store.listBatches({})).items).toEqual([]);
      expect((await h.store.listJobs({})).items).toHaveLength(1);
    });
  });

  describe('bad input never corrupts the store', () => {
    it('rejects an empty job_type with a SecretaryError and writes nothing', async () => {
      await expectSecretaryError(h.store.createJob({ job_type: '' }), 'INVALID_PARAMETERS');
      await expectSecretaryError(
        h.store.createJobs([newJob(), { job_type: '' }]),
        'INVALID_PARAMETERS',
      );
      await expectSecretaryError(
        h.store.createBatch({ jobs: [newJob(), { job_type: '' }] }),
        'INVALID_PARAMETERS',
      );
      expect((await h.store.listJobs({})).items).toEqual([]);
      expect((await h.store.listBatches({})).items).toEqual([]);
      const { created } = await h.store.createJob(newJob());
      expect(created).toBe(true);
    });

    it('rejects external ids outside 1..200 characters (the shared checkExternalId rule)', async () => {
      await expectSecretaryError(
        h.store.createJob(newJob({ external_id: '' })),
        'INVALID_PARAMETERS',
      );
      await expectSecretaryError(
        h.store.createJob(newJob({ external_id: 'e'.repeat(201) })),
        'INVALID_PARAMETERS',
      );
      expect((await h.store.listJobs({})).items).toEqual([]);
    });

    it('round-trips parameters and results with odd values exactly', async () => {
      const params = oddParameters();
      const { job } = await h.store.createJob(newJob({ job_type: 'odd', parameters: params }));
      expect(job.parameters).toEqual(params);
      expect((await h.store.getJob(job.job_id))?.parameters).toEqual(params);
      const claimed = await h.store.claim({
        owner: 'w',
        limit: 1,
        types: { odd: 1 },
        leaseMs: 30_000,
      });
      expect(claimed[0]?.parameters).toEqual(params);
      const results = {
        ...oddParameters(),
        markdown: '# Überschrift\n\n| a | b |\n|---|---|\n| 🎉 | \\ |',
      };
      expect(
        await h.store.complete(
          { job_id: job.job_id, lease_token: claimed[0]?.lease_token ?? '' },
          results,
        ),
      ).toBe(true);
      expect((await h.store.getJob(job.job_id))?.results).toEqual(results);
    });

    it('stores `$`-prefixed keys exactly or rejects them with INVALID_PARAMETERS, never half-writes', async () => {
      // Production reading: client JSON may carry `$` keys; a backend that cannot store them must refuse cleanly.
      const params = { $where: 'sleep(1000)', nested: { $gt: '' } };
      const outcome = await h.store.createJob(newJob({ parameters: params })).then(
        (r) => r.job,
        (e: unknown) => e,
      );
      const listed = (await h.store.listJobs({})).items;
      if (outcome instanceof Error) {
        await expectSecretaryError(Promise.reject(outcome), 'INVALID_PARAMETERS');
        expect(listed).toEqual([]);
      } else {
        expect(listed.map((j) => j.parameters)).toEqual([params]);
      }
    });
  });
};
