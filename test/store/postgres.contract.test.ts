/**
 * The store contract against PostgreSQL: a fresh schema per store (`secretary_test_<random>`),
 * peers on the same schema, every schema dropped at the end.
 *
 * URL: SECRETARY_TEST_POSTGRES_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 * Unreachable: the suite is skipped with the reason, unless CI is set (then this file fails).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { JobStore } from '../../src/store/job-store.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { runJobStoreContract } from '../contract/job-store.contract.js';
import { postgresUnavailable, postgresUrl } from '../helpers/postgres.js';

const url = postgresUrl;
const skip = await postgresUnavailable();
if (skip) console.warn(`PostgreSQL tests skipped: ${skip}`);

const schemas = new Set<string>();
const schemaOf = new WeakMap<JobStore, string>();

const open = async (
  schema: string,
  limits?: ConstructorParameters<typeof PostgresJobStore>[0]['limits'],
): Promise<JobStore> => {
  const store = new PostgresJobStore({ url, schema, limits, poolSize: 4 });
  await store.init();
  schemaOf.set(store, schema);
  return store;
};

runJobStoreContract({
  name: 'PostgreSQL',
  skip,
  create: async (options) => {
    const schema = `secretary_test_${randomBytes(6).toString('hex')}`;
    schemas.add(schema);
    return open(schema, options?.limits);
  },
  createPeer: async (first) => {
    const schema = schemaOf.get(first);
    if (!schema) throw new Error('createPeer: unknown first store');
    return open(schema);
  },
  cleanup: async () => {
    if (schemas.size === 0) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    } finally {
      await client.end();
    }
  },
});
