/**
 * PostgreSQL-only: group commit. Writes issued together share one statement, yet each caller
 * gets its own fenced answer, two writes of one job behave as if run one after the other, and a
 * write that fails its group is retried alone so it fails alone.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { leaseOf } from '../helpers/store-fixtures.js';
import { postgresUnavailable, postgresUrl } from '../helpers/postgres.js';

const url = postgresUrl;
const skip = await postgresUnavailable();
if (skip) console.warn(`PostgreSQL tests skipped: ${skip}`);

describe.skipIf(skip)(`PostgreSQL group commit${skip ? ` — skipped: ${skip}` : ''}`, () => {
  const schema = `secretary_test_${randomBytes(6).toString('hex')}`;
  let store: PostgresJobStore;
  let admin: pg.Client;

  beforeAll(async () => {
    store = new PostgresJobStore({ url, schema, poolSize: 4 });
    await store.init();
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  afterAll(async () => {
    await store?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  const claimAll = async (type: string, n: number) => {
    await store.createJobs(Array.from({ length: n }, () => ({ job_type: type })));
    return store.claim({ owner: 'w', limit: n, types: { [type]: n }, leaseMs: 30_000 });
  };

  it('answers each of many concurrent finishes with its own fenced result', async () => {
    const jobs = await claimAll('gc-finish', 30);
    expect(jobs).toHaveLength(30);
    const results = await Promise.all(
      jobs.map((j, i) => {
        const lease = leaseOf(j);
        if (i % 5 === 0) return store.complete({ ...lease, lease_token: 'stale' }, {});
        if (i % 5 === 1) return store.fail(lease, { code: 'X', message: 'boom' });
        if (i % 5 === 2)
          return store.fail(lease, { code: 'X', message: 'again' }, { retryAt: null });
        if (i % 5 === 3) return store.release(lease, 'shutdown');
        return store.complete(lease, { i }, [
          { timestamp: new Date().toISOString(), level: 'info', message: `m${i}` },
        ]);
      }),
    );
    expect(results).toEqual(jobs.map((_, i) => i % 5 !== 0));
    const after = await Promise.all(jobs.map((j) => store.getJob(j.job_id)));
    after.forEach((job, i) => {
      const want = ['processing', 'failed', 'failed', 'pending', 'completed'][i % 5];
      expect(job?.status).toBe(want);
      if (i % 5 === 4) {
        expect(job?.results).toEqual({ i });
        expect(job?.logs.at(-1)?.message).toBe(`m${i}`);
      }
      if (i % 5 === 3) expect(job?.attempts).toBe(0);
    });
  });

  it('lets exactly one of two concurrent finishes of one lease win', async () => {
    const [job] = await claimAll('gc-twice', 1);
    const lease = leaseOf(job!);
    const results = await Promise.all([
      store.complete(lease, { first: true }),
      store.fail(lease, { code: 'X', message: 'second' }),
      store.updateProgress(lease, { step: 's', percent: 10, message: null }),
    ]);
    expect(results.slice(0, 2).filter(Boolean)).toHaveLength(1);
    expect((await store.getJob(job!.job_id))?.status).toBe('completed');
  });

  it('renews the leases of several concurrent calls, each answered for its own leases', async () => {
    const jobs = await claimAll('gc-extend', 4);
    const [a, b, c, d] = jobs.map(leaseOf);
    const [lostA, lostB] = await Promise.all([
      store.extendLeases('w', [a!, { ...b!, lease_token: 'stale' }], 60_000),
      store.extendLeases('someone-else', [c!], 60_000),
      store.extendLeases('w', [a!, d!], 60_000),
    ]);
    expect(lostA).toEqual([b!.job_id]);
    expect(lostB).toEqual([c!.job_id]);
  });

  it('fails only the bad create of a group; the others are created', async () => {
    const made = await Promise.allSettled([
      store.createJob({ job_type: 'gc-create', parameters: { ok: 1 } }),
      store.createJob({ job_type: 'gc-create', parameters: { bad: 'nul\u0000' } }),
      store.createJob({ job_type: 'gc-create', parameters: { ok: 2 }, external_id: 'gc-ext' }),
      store.createJob({ job_type: 'gc-create', parameters: { ok: 3 }, external_id: 'gc-ext' }),
    ]);
    expect(made.map((m) => m.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const [ok1, , ext1, ext2] = made.map((m) => (m.status === 'fulfilled' ? m.value : null));
    expect(ok1?.created).toBe(true);
    expect(ext1?.created).toBe(true);
    expect(ext2?.created).toBe(false);
    expect(ext2?.job.job_id).toBe(ext1?.job.job_id);
    const r = await admin.query(
      `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE job_type = 'gc-create'`,
    );
    expect(r.rows[0].n).toBe(2);
  });

  it('keeps the cached generic plan of the grouped writes instead of re-planning each one', async () => {
    // One connection, so every execution below is counted in its pg_prepared_statements.
    const one = new PostgresJobStore({ url, schema, poolSize: 1 });
    await one.init();
    try {
      // Enough rows that a custom plan for a one-element unnest looks cheaper than the generic
      // plan: PostgreSQL would then plan every execution anew (~0.6 ms each).
      for (let i = 0; i < 4; i++) {
        await one.createJobs(Array.from({ length: 1000 }, () => ({ job_type: 'gc-plan' })));
      }
      for (let i = 0; i < 30; i++) {
        const [job] = await one.claim({
          owner: 'w',
          limit: 1,
          types: { 'gc-plan': 1 },
          leaseMs: 30_000,
        });
        const lease = leaseOf(job!);
        expect(await one.extendLeases('w', [lease], 30_000)).toEqual([]);
        expect(await one.updateProgress(lease, { step: 's', percent: 50, message: 'half' })).toBe(
          true,
        );
        expect(await one.complete(lease, {})).toBe(true);
      }
      // The store's only pooled connection: its prepared statements and how they were planned.
      const pool = (one as unknown as { ctx: { pool: pg.Pool } }).ctx.pool;
      const { rows } = await pool.query<{ name: string; generic: string; custom: string }>(
        `SELECT name, generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements
         WHERE name IN ('secretary_finishMany', 'secretary_progressMany', 'secretary_extendMany',
           'secretary_claimPerType')`,
      );
      expect(rows.map((r) => r.name).sort()).toEqual([
        'secretary_claimPerType',
        'secretary_extendMany',
        'secretary_finishMany',
        'secretary_progressMany',
      ]);
      // The first five executions are always custom plans; after that the generic one is reused.
      for (const r of rows)
        expect({ name: r.name, custom: Number(r.custom) }).toEqual({ name: r.name, custom: 5 });
    } finally {
      await one.close();
    }
  });
});
