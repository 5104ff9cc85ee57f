/** The PostgreSQL server of the test machine: URL, reachability, throwaway schemas. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const postgresUrl =
  process.env.SECRETARY_TEST_POSTGRES_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL tests cannot run (false when they can). Under CI an unreachable server is an error. */
export const postgresUnavailable = async (): Promise<string | false> => {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (err) {
    const reason = `PostgreSQL not reachable at ${postgresUrl.replace(/\/\/([^@/]+)@/, '//***@')}: ${(err as Error).message}`;
    if (process.env.CI) throw new Error(`CI must run the PostgreSQL tests. ${reason}`);
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
};

export const freshSchemaName = (prefix = 'secretary_e2e'): string => `${prefix}_${randomBytes(4).toString('hex')}`;

export const dropSchema = async (schema: string): Promise<void> => {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
};

export const withSchema = (schema: string): string => `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${schema}`;
