/**
 * Indexes of the MongoDB store, created once by `init()` (the original re-issued its
 * `create_index` calls on every request). `createIndexes` is idempotent for identical specs,
 * so several processes may start at once.
 */
import type { Collection, Db, IndexDescription } from 'mongodb';
import type { BatchDoc, CounterDoc, JobDoc, OutboxDoc, SlotDoc } from './documents.js';

export interface MongoCollections {
  jobs: Collection<JobDoc>;
  batches: Collection<BatchDoc>;
  outbox: Collection<OutboxDoc>;
  /** Monotonic sequences (`jobs`, `batches`, `outbox`): FIFO order, list cursors, outbox order. */
  counters: Collection<CounterDoc>;
  /** Per-type slot documents for cluster-wide caps (see claim.ts). */
  slots: Collection<SlotDoc>;
}

export const collectionNames = (prefix = ''): Record<keyof MongoCollections, string> => ({
  jobs: `${prefix}jobs`,
  batches: `${prefix}batches`,
  outbox: `${prefix}outbox`,
  counters: `${prefix}counters`,
  slots: `${prefix}job_type_slots`,
});

export const openCollections = (db: Db, prefix = ''): MongoCollections => {
  const n = collectionNames(prefix);
  return {
    jobs: db.collection<JobDoc>(n.jobs),
    batches: db.collection<BatchDoc>(n.batches),
    outbox: db.collection<OutboxDoc>(n.outbox),
    counters: db.collection<CounterDoc>(n.counters),
    slots: db.collection<SlotDoc>(n.slots),
  };
};

export const JOB_INDEXES: IndexDescription[] = [
  // identity (the original's `job_id` unique index, same name so an existing one is reused)
  { key: { job_id: 1 }, name: 'job_id_1', unique: true },
  // partial: documents written by the original have no `seq` (a unique index would see them as duplicates)
  { key: { seq: 1 }, name: 'seq_unique', unique: true, partialFilterExpression: { seq: { $type: 'number' } } },
  // client ids: unique only when given (null and missing are outside the partial index)
  {
    key: { external_id: 1 },
    name: 'external_id_unique',
    unique: true,
    partialFilterExpression: { external_id: { $type: 'string' } },
  },
  // claim: equality on status, then the queue order; the per-type variant for capped types
  { key: { status: 1, priority: -1, run_at: 1, seq: 1 }, name: 'jobs_claim' },
  { key: { status: 1, job_type: 1, priority: -1, run_at: 1, seq: 1 }, name: 'jobs_claim_type' },
  // reaper: expired leases of running jobs
  { key: { status: 1, lease_expires_at: 1 }, name: 'jobs_lease' },
  // lists (newest first) and their filters
  { key: { status: 1, seq: -1 }, name: 'jobs_status_seq' },
  { key: { job_type: 1, seq: -1 }, name: 'jobs_type_seq' },
  { key: { batch_id: 1, seq: -1 }, name: 'jobs_batch_seq' },
  { key: { user_id: 1, seq: -1 }, name: 'jobs_user_seq' },
  // batch recount (covered: batch_id + status only)
  { key: { batch_id: 1, status: 1 }, name: 'jobs_batch_status' },
  // retention
  { key: { completed_at: 1 }, name: 'jobs_completed', partialFilterExpression: { completed_at: { $type: 'date' } } },
  // repair of webhook records whose transition committed but whose insert did not (no transactions)
  {
    key: { 'outbox_intents.created_at': 1 },
    name: 'jobs_outbox_intents',
    partialFilterExpression: { 'outbox_intents.created_at': { $exists: true } },
  },
];

export const BATCH_INDEXES: IndexDescription[] = [
  { key: { batch_id: 1 }, name: 'batch_id_1', unique: true },
  { key: { seq: 1 }, name: 'seq_unique', unique: true, partialFilterExpression: { seq: { $type: 'number' } } },
  { key: { status: 1, seq: -1 }, name: 'batches_status_seq' },
  { key: { user_id: 1, seq: -1 }, name: 'batches_user_seq' },
  { key: { status: 1, updated_at: 1 }, name: 'batches_status_updated' },
  { key: { completed_at: 1 }, name: 'batches_completed', partialFilterExpression: { completed_at: { $type: 'date' } } },
  {
    key: { 'outbox_intents.created_at': 1 },
    name: 'batches_outbox_intents',
    partialFilterExpression: { 'outbox_intents.created_at': { $exists: true } },
  },
];

export const OUTBOX_INDEXES: IndexDescription[] = [
  { key: { event_id: 1 }, name: 'event_id_unique', unique: true },
  // unfinished records per target in order (claimOutbox). Not partial: `$in` in a
  // partialFilterExpression needs MongoDB 7.0, and the users run 6.
  { key: { status: 1, target: 1, seq: 1 }, name: 'outbox_open' },
  { key: { job_id: 1, seq: 1 }, name: 'outbox_job' },
  { key: { batch_id: 1, seq: 1 }, name: 'outbox_batch' },
  { key: { status: 1, created_at: 1 }, name: 'outbox_status_created' },
];

/** Creates every index (idempotent) and the sequence documents. */
export const ensureIndexes = async (c: MongoCollections): Promise<void> => {
  await Promise.all([
    c.jobs.createIndexes(JOB_INDEXES),
    c.batches.createIndexes(BATCH_INDEXES),
    c.outbox.createIndexes(OUTBOX_INDEXES),
  ]);
  for (const name of ['jobs', 'batches', 'outbox']) {
    await c.counters.updateOne({ _id: name }, { $setOnInsert: { seq: 0 } }, { upsert: true });
  }
};
