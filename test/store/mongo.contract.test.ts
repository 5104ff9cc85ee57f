/**
 * The store contract against MongoDB: a fresh database per store (`secretary_test_<random>`),
 * peers on the same database, every database dropped at the end.
 *
 * Runs when MONGODB_URI is set (e.g. `mongodb://127.0.0.1:27017`, or a replica set with
 * `?replicaSet=rs0` to exercise transactions and change streams); otherwise the suite is
 * skipped with the reason. Set but unreachable: skipped with the reason, unless CI is set.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { JobStore } from '../../src/store/job-store.js';
import { MongoJobStore } from '../../src/store/mongo/mongo-store.js';
import { runJobStoreContract } from '../contract/job-store.contract.js';

const url = process.env.MONGODB_URI;

const unreachable = async (): Promise<string | false> => {
  if (!url) return 'MONGODB_URI not set — no MongoDB server on this machine';
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return false;
  } catch (err) {
    return `MongoDB not reachable at ${url.replace(/\/\/([^@/]+)@/, '//***@')}: ${(err as Error).message}`;
  } finally {
    await client.close().catch(() => undefined);
  }
};

const skip = await unreachable();
if (skip && url && process.env.CI) throw new Error(`CI must run the MongoDB store suite. ${skip}`);

const databases = new Set<string>();

const open = async (dbName: string, limits?: ConstructorParameters<typeof MongoJobStore>[0]['limits']): Promise<JobStore> => {
  const store = new MongoJobStore({ url: url!, dbName, limits, clientOptions: { maxPoolSize: 8 } });
  await store.init();
  return store;
};

runJobStoreContract({
  name: 'MongoDB',
  skip,
  create: async (options) => {
    const dbName = `secretary_test_${randomBytes(6).toString('hex')}`;
    databases.add(dbName);
    return open(dbName, options?.limits);
  },
  createPeer: async (first) => {
    if (!(first instanceof MongoJobStore)) throw new Error('createPeer: not a MongoJobStore');
    return open(first.dbName);
  },
  cleanup: async () => {
    if (databases.size === 0 || !url) return;
    const client = new MongoClient(url);
    try {
      await client.connect();
      for (const name of databases) await client.db(name).dropDatabase();
    } finally {
      await client.close();
    }
  },
});
