/**
 * Picks the backend from `store.url`: `sqlite:<path>` (default), `postgres://…` /
 * `postgresql://…`, `mongodb://…` / `mongodb+srv://…`. Backends load lazily so a SQLite
 * deployment never loads the other drivers.
 */
import { isAbsolute, join } from 'node:path';
import type { SecretaryConfig } from '../config/defaults.js';
import type { JobStore, StoreLimits } from './job-store.js';

export type StoreKind = 'sqlite' | 'postgres' | 'mongodb';

export const storeKind = (url: string): StoreKind => {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^mongodb(\+srv)?:\/\//i.test(url)) return 'mongodb';
  if (url.startsWith('sqlite:') || url.endsWith('.db') || url === ':memory:') return 'sqlite';
  throw new Error(
    `store.url not understood: ${url}. Use sqlite:<path>, postgres://user@host/db or mongodb://host/db.`,
  );
};

export const sqlitePath = (url: string, home: string): string => {
  const p = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url;
  if (p === ':memory:') return p;
  return isAbsolute(p) ? p : join(home, p);
};

export interface CreateStoreOptions {
  url: string;
  home?: string;
  limits?: Partial<StoreLimits>;
  sqliteSynchronous?: 'normal' | 'full';
  listenUrl?: string | null;
}

/** Creates and initialises (migrates) the store. */
export const createStore = async (opts: CreateStoreOptions): Promise<JobStore> => {
  const kind = storeKind(opts.url);
  let store: JobStore;
  if (kind === 'sqlite') {
    const { SqliteJobStore } = await import('./sqlite/sqlite-store.js');
    store = new SqliteJobStore({
      path: sqlitePath(opts.url, opts.home ?? process.cwd()),
      limits: opts.limits,
      synchronous: opts.sqliteSynchronous,
    });
  } else if (kind === 'postgres') {
    const { PostgresJobStore } = await import('./postgres/postgres-store.js');
    // `?schema=name` keeps several deployments (or test runs) apart in one database
    const u = new URL(opts.url);
    const schema = u.searchParams.get('schema') ?? undefined;
    u.searchParams.delete('schema');
    store = new PostgresJobStore({ url: u.toString(), schema, limits: opts.limits, listenUrl: opts.listenUrl ?? undefined });
  } else {
    const { MongoJobStore } = await import('./mongo/mongo-store.js');
    store = new MongoJobStore({ url: opts.url, limits: opts.limits });
  }
  await store.init();
  return store;
};

export const storeOptionsFromConfig = (config: SecretaryConfig): CreateStoreOptions => ({
  url: config.store.url,
  home: config.paths.home,
  limits: { maxLogEntries: config.store.max_log_entries },
  sqliteSynchronous: config.store.sqlite_synchronous,
  listenUrl: config.store.listen_url,
});

/** A store URL for logs: credentials removed. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^@/]+)@/, '//***@');
