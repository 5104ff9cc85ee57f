/** Contract: fenced worker writes (stale leases, extendLeases, updateProgress, appendLog, setLlmInfo). */
import { describe, expect, it } from 'vitest';
import { addLlmRequest, type LlmInfo } from '../../src/core/job.js';
import type { ContractHarness } from './contract-harness.js';
import {
  claimOne,
  createAndClaim,
  isoIn,
  jobError,
  leaseOf,
  logEntry,
  mustGetJob,
  newJob,
  sleep,
  WEBHOOK,
} from '../helpers/store-fixtures.js';

const llm = (tokens: number, base: LlmInfo | null = null): LlmInfo =>
  addLlmRequest(base, {
    model: 'm',
    purpose: 'p',
    tokens,
    duration: 1,
    processor: 'test',
    timestamp: new Date().toISOString(),
  });

export const registerFencingTests = (h: ContractHarness): void => {
  describe('fencing: a stale lease changes nothing', () => {
    it('refuses every write of worker A after its lease expired and worker B re-claimed', async () => {
      const { job } = await h.store.createJob(
        newJob({ job_type: 'stale', webhook: WEBHOOK, max_attempts: 3 }),
      );
      const a = await claimOne(h.store, { type: 'stale', owner: 'A', leaseMs: 60 });
      await sleep(150);
      expect(await h.store.reapExpiredLeases()).toEqual({ requeued: [job.job_id], failed: [] });
      const b = await claimOne(h.store, { type: 'stale', owner: 'B', leaseMs: 30_000 });
      expect(b.lease_token).not.toBe(a.lease_token);
      expect(b.attempts).toBe(2);

      const snapshot = await mustGetJob(h.store, job.job_id);
      const outbox = await h.store.listOutbox(job.job_id);
      const A = leaseOf(a);
      expect(
        await h.store.updateProgress(A, { step: 'stale', percent: 99, message: 'from A' }),
      ).toBe(false);
      expect(await h.store.appendLog(A, logEntry('from A'))).toBe(false);
      expect(await h.store.setLlmInfo(A, llm(5))).toBe(false);
      expect(await h.store.complete(A, { by: 'A' })).toBe(false);
      expect(await h.store.fail(A, jobError('HANDLER_ERROR', 'from A'))).toBe(false);
      expect(await h.store.fail(A, jobError(), { retryAt: isoIn(-1) })).toBe(false);
      expect(await h.store.release(A, 'shutdown of A')).toBe(false);
      expect(await h.store.extendLeases('A', [A], 30_000)).toEqual([job.job_id]);
      expect(await mustGetJob(h.store, job.job_id)).toEqual(snapshot);
      expect(await h.store.listOutbox(job.job_id)).toEqual(outbox);

      const B = leaseOf(b);
      expect(await h.store.extendLeases('B', [B], 30_000)).toEqual([]);
      expect(await h.store.updateProgress(B, { step: 'b', percent: 40, message: null })).toBe(true);
      expect(await h.store.appendLog(B, logEntry('from B'))).toBe(true);
      expect(await h.store.complete(B, { by: 'B' })).toBe(true);
      const final = await mustGetJob(h.store, job.job_id);
      expect(final).toMatchObject({
        status: 'completed',
        results: { by: 'B' },
        lease_owner: null,
        lease_expires_at: null,
      });
      expect(final.logs.map((l) => l.message)).toContain('from B');
      expect(final.logs.map((l) => l.message)).not.toContain('from A');
      // A's late writes after B finished are refused too.
      expect(await h.store.fail(A, jobError())).toBe(false);
      expect((await mustGetJob(h.store, job.job_id)).status).toBe('completed');
    });

    it('refuses writes with a wrong token or on an unknown job without throwing', async () => {
      const c = await createAndClaim(h.store);
      const wrong = { job_id: c.job_id, lease_token: 'not-the-token' };
      const ghost = { job_id: 'job-ghost', lease_token: c.lease_token };
      for (const lease of [wrong, ghost]) {
        expect(await h.store.updateProgress(lease, { step: 's', percent: 10, message: null })).toBe(
          false,
        );
        expect(await h.store.appendLog(lease, logEntry('x'))).toBe(false);
        expect(await h.store.complete(lease, {})).toBe(false);
        expect(await h.store.fail(lease, jobError())).toBe(false);
        expect(await h.store.release(lease, 'x')).toBe(false);
      }
      expect(await mustGetJob(h.store, c.job_id)).toMatchObject({
        status: 'processing',
        progress: null,
        logs: [],
        version: c.version,
      });
    });
  });

  describe('extendLeases', () => {
    it('extends held leases and reports lost ones (cancelled, finished, other owner, unknown)', async () => {
      await h.store.createJobs([
        newJob({ job_type: 'e' }),
        newJob({ job_type: 'e' }),
        newJob({ job_type: 'e' }),
        newJob({ job_type: 'e' }),
      ]);
      const kept = await claimOne(h.store, { type: 'e', owner: 'W', leaseMs: 1000 });
      const cancelled = await claimOne(h.store, { type: 'e', owner: 'W', leaseMs: 1000 });
      const finished = await claimOne(h.store, { type: 'e', owner: 'W', leaseMs: 1000 });
      const foreign = await claimOne(h.store, { type: 'e', owner: 'X', leaseMs: 1000 });
      await h.store.cancelJob(cancelled.job_id, 'stop');
      expect(await h.store.complete(leaseOf(finished), {})).toBe(true);
      const leases = [kept, cancelled, finished, foreign].map(leaseOf);
      const lost = await h.store.extendLeases(
        'W',
        [...leases, { job_id: 'job-unknown', lease_token: 't' }],
        60_000,
      );
      expect([...lost].sort()).toEqual(
        [cancelled.job_id, finished.job_id, foreign.job_id, 'job-unknown'].sort(),
      );
      const renewed = await mustGetJob(h.store, kept.job_id);
      expect(Date.parse(renewed.lease_expires_at!)).toBeGreaterThan(Date.now() + 30_000);
      expect((await mustGetJob(h.store, foreign.job_id)).lease_expires_at).toBe(
        foreign.lease_expires_at,
      );
      expect(await h.store.extendLeases('W', [], 60_000)).toEqual([]);
    });

    it('keeps an extended job from being reaped', async () => {
      const c = await createAndClaim(h.store, {}, { owner: 'W', leaseMs: 80 });
      expect(await h.store.extendLeases('W', [leaseOf(c)], 30_000)).toEqual([]);
      await sleep(150);
      expect(await h.store.reapExpiredLeases()).toEqual({ requeued: [], failed: [] });
      expect((await mustGetJob(h.store, c.job_id)).status).toBe('processing');
    });
  });

  describe('updateProgress', () => {
    it('stores progress, bumps the version, keeps percent monotonic and clamped', async () => {
      const c = await createAndClaim(h.store);
      const L = leaseOf(c);
      expect(await h.store.updateProgress(L, { step: 'one', percent: 50, message: 'half' })).toBe(
        true,
      );
      let j = await mustGetJob(h.store, c.job_id);
      expect(j.progress).toEqual({ step: 'one', percent: 50, message: 'half' });
      expect(j.version).toBe(c.version + 1);
      expect(await h.store.updateProgress(L, { step: 'two', percent: 30, message: null })).toBe(
        true,
      );
      j = await mustGetJob(h.store, c.job_id);
      // The lower percent is raised to the stored one; step and message follow the new call.
      expect(j.progress?.percent).toBe(50);
      expect(j.version).toBe(c.version + 2);
      expect(await h.store.updateProgress(L, { step: 'over', percent: 150, message: null })).toBe(
        true,
      );
      expect((await mustGetJob(h.store, c.job_id)).progress?.percent).toBe(100);
      const d = await createAndClaim(h.store);
      expect(
        await h.store.updateProgress(leaseOf(d), { step: 'neg', percent: -5, message: null }),
      ).toBe(true);
      expect((await mustGetJob(h.store, d.job_id)).progress?.percent).toBe(0);
    });

    it('starts monotonic percent afresh on a new attempt', async () => {
      const c = await createAndClaim(h.store, { job_type: 'again' });
      expect(
        await h.store.updateProgress(leaseOf(c), { step: 's', percent: 80, message: null }),
      ).toBe(true);
      expect(await h.store.fail(leaseOf(c), jobError(), { retryAt: isoIn(-1) })).toBe(true);
      const c2 = await claimOne(h.store, { type: 'again' });
      expect(
        await h.store.updateProgress(leaseOf(c2), { step: 's', percent: 10, message: null }),
      ).toBe(true);
      expect((await mustGetJob(h.store, c.job_id)).progress?.percent).toBe(10);
    });

    it('writes a progress outbox record with the stored progress only when the job has a webhook', async () => {
      const hooked = await createAndClaim(h.store, { webhook: WEBHOOK });
      expect(
        await h.store.updateProgress(leaseOf(hooked), { step: 'a', percent: 50, message: 'm' }),
      ).toBe(true);
      expect(
        await h.store.updateProgress(leaseOf(hooked), { step: 'b', percent: 20, message: 'm' }),
      ).toBe(true);
      const records = await h.store.listOutbox(hooked.job_id);
      expect(records.map((r) => [r.kind, r.status, r.snapshot?.progress?.percent])).toEqual([
        ['progress', 'pending', 50],
        ['progress', 'pending', 50],
      ]);
      const plain = await createAndClaim(h.store);
      expect(
        await h.store.updateProgress(leaseOf(plain), { step: 'a', percent: 50, message: null }),
      ).toBe(true);
      expect(await h.store.listOutbox(plain.job_id)).toEqual([]);
    });
  });

  describe('appendLog and setLlmInfo', () => {
    it('appends entries without bumping the version; unknown levels become info', async () => {
      const c = await createAndClaim(h.store);
      const e1 = logEntry('first', 'warning');
      expect(await h.store.appendLog(leaseOf(c), e1)).toBe(true);
      expect(
        await h.store.appendLog(leaseOf(c), { ...logEntry('second'), level: 'verbose' as never }),
      ).toBe(true);
      const j = await mustGetJob(h.store, c.job_id);
      expect(j.logs).toEqual([e1, expect.objectContaining({ level: 'info', message: 'second' })]);
      expect(j.version).toBe(c.version);
    });

    it('keeps only the newest maxLogEntries and cuts messages to maxLogMessage', async () => {
      const store = await h.open({ limits: { maxLogEntries: 5, maxLogMessage: 100 } });
      await store.createJob(newJob());
      const c = await claimOne(store);
      for (let i = 0; i < 8; i += 1)
        expect(await store.appendLog(leaseOf(c), logEntry(`m${i}`))).toBe(true);
      expect((await mustGetJob(store, c.job_id)).logs.map((l) => l.message)).toEqual([
        'm3',
        'm4',
        'm5',
        'm6',
        'm7',
      ]);
      expect(await store.appendLog(leaseOf(c), logEntry('a'.repeat(100) + 'b'.repeat(400)))).toBe(
        true,
      );
      const last = (await mustGetJob(store, c.job_id)).logs.at(-1)!;
      expect(last.message.startsWith('a'.repeat(100))).toBe(true);
      expect(last.message).not.toContain('b');
      expect((await mustGetJob(store, c.job_id)).logs).toHaveLength(5);
    });

    it('survives a 1 MB log message (default limits) and keeps working', async () => {
      const c = await createAndClaim(h.store);
      expect(await h.store.appendLog(leaseOf(c), logEntry('z'.repeat(1_000_000)))).toBe(true);
      const j = await mustGetJob(h.store, c.job_id);
      expect(j.logs).toHaveLength(1);
      expect(j.logs[0]!.message.length).toBeLessThan(5000);
      expect(await h.store.complete(leaseOf(c), { ok: true })).toBe(true);
      expect((await mustGetJob(h.store, c.job_id)).status).toBe('completed');
    });

    it('setLlmInfo replaces llm_info with the given aggregate', async () => {
      // Docs: "replaces llm_info with the given aggregate" (the interface comment says "merged"; the caller aggregates).
      const c = await createAndClaim(h.store);
      const one = llm(10);
      const two = llm(20, one);
      expect(await h.store.setLlmInfo(leaseOf(c), one)).toBe(true);
      expect((await mustGetJob(h.store, c.job_id)).llm_info).toEqual(one);
      expect(await h.store.setLlmInfo(leaseOf(c), two)).toBe(true);
      const j = await mustGetJob(h.store, c.job_id);
      expect(j.llm_info).toEqual(two);
      expect(j.llm_info?.requests_count).toBe(2);
    });
  });
};
