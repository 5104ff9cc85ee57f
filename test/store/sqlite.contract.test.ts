/** The store contract against SQLite: a fresh database file per test, peers on the same file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobStore } from '../../src/store/job-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { runJobStoreContract } from '../contract/job-store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'secretary-sqlite-contract-'));
const paths = new WeakMap<JobStore, string>();
let n = 0;

const open = async (
  path: string,
  limits?: ConstructorParameters<typeof SqliteJobStore>[0]['limits'],
): Promise<JobStore> => {
  const store = new SqliteJobStore({ path, limits });
  await store.init();
  paths.set(store, path);
  return store;
};

runJobStoreContract({
  name: 'SQLite',
  create: async (options) => open(join(dir, `store-${(n += 1)}.db`), options?.limits),
  createPeer: async (first) => {
    const path = paths.get(first);
    if (!path) throw new Error('createPeer: unknown first store');
    return open(path);
  },
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
});
