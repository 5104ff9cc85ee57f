/** Contract: `batchUsage` sums the jobs' `llm_info` (tokens, duration, cost; unknown cost stays unknown). */
import { describe, expect, it } from 'vitest';
import { addLlmRequest, type LlmInfo, type LlmRequest } from '../../src/core/job.js';
import type { ContractHarness } from './contract-harness.js';
import { claimOne, leaseOf, newJob } from '../helpers/store-fixtures.js';

const usage = (...reqs: Array<Partial<LlmRequest>>): LlmInfo =>
  reqs.reduce<LlmInfo | null>(
    (info, r) =>
      addLlmRequest(info, {
        model: 'm',
        purpose: 'p',
        tokens: 10,
        duration: 5,
        processor: 't',
        timestamp: new Date().toISOString(),
        ...r,
      }),
    null,
  )!;

export const registerUsageTests = (h: ContractHarness): void => {
  describe('batch usage', () => {
    it('sums requests, tokens, duration and cost of the batch jobs, and nothing of other jobs', async () => {
      // a job outside the batch (claimed first: FIFO) also records usage; it must not count
      await h.store.createJob(newJob());
      const outside = await claimOne(h.store, { owner: 'w' });
      await h.store.setLlmInfo(leaseOf(outside), usage({ tokens: 9999, cost: 99 }));
      const { batch } = await h.store.createBatch({ jobs: [newJob(), newJob(), newJob()] });
      const infos = [
        usage({ tokens: 100, cost: 0.25 }, { tokens: 50, cost: 0.5, duration: 7 }),
        usage({ tokens: 30, cost: 0, from_cache: true }),
      ];
      for (const info of infos) {
        const job = await claimOne(h.store, { owner: 'w' });
        expect(await h.store.setLlmInfo(leaseOf(job), info)).toBe(true);
        await h.store.complete(leaseOf(job), {});
      }
      const u = await h.store.batchUsage(batch.batch_id);
      expect(u).toEqual({
        jobs_with_usage: 2,
        requests_count: 3,
        total_tokens: 180,
        total_duration: 17,
        total_cost: 0.75,
      });
    });

    it('reports the cost as unknown when one job used an unpriced model, and zeros for an unknown batch', async () => {
      const { batch } = await h.store.createBatch({ jobs: [newJob(), newJob()] });
      for (const info of [usage({ cost: 1 }), usage({ cost: null })]) {
        const job = await claimOne(h.store, { owner: 'w' });
        await h.store.setLlmInfo(leaseOf(job), info);
      }
      expect(await h.store.batchUsage(batch.batch_id)).toMatchObject({
        jobs_with_usage: 2,
        requests_count: 2,
        total_cost: null,
      });
      expect(await h.store.batchUsage('batch-nope')).toEqual({
        jobs_with_usage: 0,
        requests_count: 0,
        total_tokens: 0,
        total_duration: 0,
        total_cost: 0,
      });
    });
  });
};
