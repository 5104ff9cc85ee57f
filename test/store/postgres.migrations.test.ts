/**
 * PostgreSQL-only: migrations (idempotent, safe under concurrent init from several pools and
 * several processes) and the SQL twin of `deriveBatchStatus`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import { deriveBatchStatus } from '../../src/core/job.js';
import { POSTGRES_MIGRATIONS, migratePostgres } from '../../src/store/postgres/migrations.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { postgresUnavailable, postgresUrl } from '../helpers/postgres.js';

const url = postgresUrl;
const skip = await postgresUnavailable();
if (skip) console.warn(`PostgreSQL tests skipped: ${skip}`);

const schemas: string[] = [];
const freshSchema = (): string => {
  const s = `secretary_test_${randomBytes(6).toString('hex')}`;
  schemas.push(s);
  return s;
};

describe.skipIf(skip)(`PostgreSQL migrations${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  afterAll(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  });

  const applied = async (schema: string): Promise<number[]> =>
    (
      await admin.query<{ id: number }>(`SELECT id FROM "${schema}".schema_migrations ORDER BY id`)
    ).rows.map((r) => r.id);

  it('applies every migration once; init and migratePostgres are idempotent', async () => {
    const schema = freshSchema();
    expect(await migratePostgres(url, schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.id));
    expect(await migratePostgres(url, schema)).toEqual([]);
    const store = new PostgresJobStore({ url, schema });
    await store.init();
    await store.init();
    await store.close();
    expect(await applied(schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.id));
  });

  it('upgrades a version-1 schema in place: jobs kept, external_id still unique, lists right', async () => {
    const schema = freshSchema();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`SET search_path TO "${schema}"`);
    await admin.query(POSTGRES_MIGRATIONS[0]!.sql);
    await admin.query(
      `CREATE TABLE schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
       INSERT INTO schema_migrations (id, name) VALUES (1, 'jobs, batches, outbox');
       INSERT INTO jobs (job_id, job_type, status, created_at, updated_at, access_control, run_at, external_id)
       VALUES ('old-1', 't', 'failed', now(), now(), '{}', now(), 'ext-1'),
              ('old-2', 't', 'pending', now(), now(), '{}', now(), NULL)`,
    );
    await admin.query('SET search_path TO DEFAULT');
    expect(await migratePostgres(url, schema)).toEqual(
      POSTGRES_MIGRATIONS.slice(1).map((m) => m.id),
    );
    const store = new PostgresJobStore({ url, schema });
    await store.init();
    try {
      expect((await store.listJobs({ status: 'failed' })).items.map((j) => j.job_id)).toEqual([
        'old-1',
      ]);
      const again = await store.createJob({ job_type: 't', external_id: 'ext-1' });
      expect(again.created).toBe(false);
      expect(again.job.job_id).toBe('old-1');
      // jobs without an external_id are not held to each other
      await store.createJobs([{ job_type: 't' }, { job_type: 't' }]);
      expect((await store.listJobs({ status: 'pending' })).items).toHaveLength(3);
    } finally {
      await store.close();
    }
  });

  it('survives many stores (pools) initialising one fresh schema at the same time', async () => {
    const schema = freshSchema();
    const stores = Array.from(
      { length: 8 },
      () => new PostgresJobStore({ url, schema, poolSize: 2 }),
    );
    await Promise.all(stores.map((s) => s.init()));
    expect(await applied(schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.id));
    const { job } = await stores[3]!.createJob({ job_type: 'm' });
    expect((await stores[7]!.getJob(job.job_id))?.job_type).toBe('m');
    await Promise.all(stores.map((s) => s.close()));
  });

  it('survives several processes migrating one fresh schema at the same time', async () => {
    const schema = freshSchema();
    const module = fileURLToPath(
      new URL('../../src/store/postgres/migrations.ts', import.meta.url),
    );
    const script = `import { migratePostgres } from ${JSON.stringify(module)};
      const ids = await migratePostgres(process.argv[1], process.argv[2]);
      console.log(JSON.stringify(ids));`;
    const run = promisify(execFile);
    const outs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script, url, schema],
          { timeout: 30_000 },
        ),
      ),
    );
    const results = outs.map((o) => JSON.parse(o.stdout.trim()) as number[]);
    // Exactly one process applied the migrations; the others found them applied.
    expect(results.filter((r) => r.length > 0)).toEqual([POSTGRES_MIGRATIONS.map((m) => m.id)]);
    expect(await applied(schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.id));
  });

  it('maps an unreachable database to STORE_ERROR', async () => {
    const store = new PostgresJobStore({ url: 'postgres://postgres@127.0.0.1:1/none' });
    const err = await store.init().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SecretaryError);
    expect((err as SecretaryError).code).toBe('STORE_ERROR');
    await store.close();
  });

  it('derives batch status in SQL exactly like deriveBatchStatus', async () => {
    const schema = freshSchema();
    await migratePostgres(url, schema);
    const cases: number[][] = [];
    for (let total = 0; total <= 3; total += 1) {
      for (let pe = 0; pe <= total; pe += 1) {
        for (let pr = 0; pr <= total - pe; pr += 1) {
          for (let co = 0; co <= total - pe - pr; co += 1) {
            for (let fa = 0; fa <= total - pe - pr - co; fa += 1) {
              cases.push([total, pe, pr, co, fa, total - pe - pr - co - fa]);
            }
          }
        }
      }
    }
    const { rows } = await admin.query<{ i: number; status: string }>(
      `SELECT i::int, "${schema}".secretary_batch_status(c[1], c[2], c[3], c[4], c[5], c[6]) AS status
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, i),
            LATERAL (SELECT array_agg(x::int) AS c FROM jsonb_array_elements_text(e.v) x) a`,
      [JSON.stringify(cases)],
    );
    const expected = cases.map(([t, pe, pr, co, fa, ca]) =>
      deriveBatchStatus({
        total_jobs: t!,
        pending_jobs: pe!,
        processing_jobs: pr!,
        completed_jobs: co!,
        failed_jobs: fa!,
        cancelled_jobs: ca!,
      }),
    );
    expect(rows.sort((a, b) => a.i - b.i).map((r) => r.status)).toEqual(expected);
    expect(cases.length).toBeGreaterThan(30);
  });
});
