/** Fresh, isolated stores for benchmarks: a temp SQLite file or a throwaway Postgres schema. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { JobStore } from '../../src/store/job-store.js';
import { storeKind } from '../../src/store/create-store.js';

export interface BenchStore {
  store: JobStore;
  kind: string;
  dispose(): Promise<void>;
}

export const openBenchStore = async (url: string | undefined): Promise<BenchStore> => {
  const kind = url ? storeKind(url) : 'sqlite';
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'secretary-bench-'));
    const { SqliteJobStore } = await import('../../src/store/sqlite/sqlite-store.js');
    const store = new SqliteJobStore({ path: join(dir, 'bench.db') });
    await store.init();
    return {
      store,
      kind,
      dispose: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (kind === 'postgres') {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const { PostgresJobStore } = await import('../../src/store/postgres/postgres-store.js');
    const store = new PostgresJobStore({ url: url!, schema });
    await store.init();
    return {
      store,
      kind,
      dispose: async () => {
        await store.close();
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    };
  }
  const { MongoJobStore } = await import('../../src/store/mongo/mongo-store.js');
  const dbName = `secretary_bench_${randomBytes(4).toString('hex')}`;
  const store = new MongoJobStore({ url: url!, dbName });
  await store.init();
  return { store, kind, dispose: async () => store.close() };
};

export const percentile = (sorted: number[], p: number): number => {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
};

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

export const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

/** Diagnostics go to stderr; stdout carries only JSON lines. */
export const note = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};
