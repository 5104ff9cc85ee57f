/**
 * Creating jobs and batches in the MongoDB store. External ids are unique through a partial
 * unique index (`external_id` of type string), so a race of two creators ends in a duplicate
 * key error (code 11000) for one of them, never in two jobs.
 *
 * Without transactions a multi-document create is "insert, and on a duplicate key delete what
 * this call inserted" (only jobs still `pending`: in the milliseconds between, a worker may
 * have claimed one — documented in docs/mongodb.md). With transactions it is all-or-nothing.
 */
import { SecretaryError } from '../../core/errors.js';
import type { Batch, Job } from '../../core/job.js';
import { batchToDoc, docToJob, jobToDoc, type JobDoc } from './documents.js';
import { duplicateKeyField, isDuplicateKey, type MongoContext, type MongoUnit } from './context.js';
import { externalIdMatch } from './queries.js';

const duplicate = (id: string): SecretaryError =>
  new SecretaryError('DUPLICATE_EXTERNAL_ID', `external_id already exists: ${id}`, { external_id: id });

/** The first external id that repeats within `jobs` or exists in the store, or null. */
const existingExternal = async (ctx: MongoContext, jobs: Job[]): Promise<string | null> => {
  const ids = jobs.map((j) => j.external_id).filter((id): id is string => id !== null);
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  if (ids.length === 0) return null;
  const found = await ctx.c.jobs.findOne({ external_id: { $in: ids, $type: 'string' } }, { projection: { external_id: 1 } });
  return found?.external_id ?? null;
};

const isExternalIdClash = (err: unknown): boolean =>
  isDuplicateKey(err) && /external_id/.test(duplicateKeyField(err) ?? err.message);

/** Job events for newly inserted jobs, one `enqueued` for their types, batch counters. */
const afterInsert = async (ctx: MongoContext, u: MongoUnit, docs: JobDoc[], now: Date, countInBatch: boolean): Promise<void> => {
  for (const d of docs) ctx.emitJob(u, d, false);
  if (docs.length) u.events.push({ type: 'enqueued', job_types: [...new Set(docs.map((d) => d.job_type))] });
  if (!countInBatch) return;
  const perBatch = new Map<string, number>();
  for (const d of docs) if (d.batch_id) perBatch.set(d.batch_id, (perBatch.get(d.batch_id) ?? 0) + 1);
  for (const [batchId, n] of perBatch) await ctx.moveBatch(u, batchId, null, 'pending', now, n);
};

export const createJob = async (ctx: MongoContext, job: Job): Promise<{ job: Job; created: boolean }> => {
  const existing = async (): Promise<Job | null> => {
    if (job.external_id === null) return null;
    const d = await ctx.c.jobs.findOne(externalIdMatch(job.external_id));
    return d ? docToJob(d) : null;
  };
  const found = await existing();
  if (found) return { job: found, created: false };
  const doc = jobToDoc(job, await ctx.nextSeq('jobs'));
  try {
    await ctx.unit(async (u) => {
      await ctx.c.jobs.insertOne({ ...doc }, ctx.opts(u));
      await afterInsert(ctx, u, [doc], doc.created_at, true);
    });
  } catch (err) {
    if (isExternalIdClash(err)) {
      const winner = await existing();
      if (winner) return { job: winner, created: false };
    }
    throw err;
  }
  return { job, created: true };
};

export const createJobs = async (ctx: MongoContext, jobs: Job[]): Promise<Job[]> => {
  const dup = await existingExternal(ctx, jobs);
  if (dup !== null) throw duplicate(dup);
  const first = await ctx.nextSeq('jobs', jobs.length);
  const docs = jobs.map((j, i) => jobToDoc(j, first + i));
  try {
    await ctx.unit(async (u) => {
      await ctx.c.jobs.insertMany(docs.map((d) => ({ ...d })), { ...ctx.opts(u), ordered: true });
      await afterInsert(ctx, u, docs, docs[0]!.created_at, true);
    });
  } catch (err) {
    if (!isExternalIdClash(err)) throw err;
    if (!ctx.transactions) {
      await ctx.c.jobs.deleteMany({ job_id: { $in: jobs.map((j) => j.job_id) }, status: 'pending' });
    }
    throw duplicate((await existingExternal(ctx, jobs)) ?? 'unknown');
  }
  return jobs;
};

export const createBatch = async (ctx: MongoContext, batch: Batch, jobs: Job[]): Promise<{ batch: Batch; jobs: Job[] }> => {
  const dup = await existingExternal(ctx, jobs);
  if (dup !== null) throw duplicate(dup);
  const bdoc = batchToDoc(batch, await ctx.nextSeq('batches'));
  const first = jobs.length ? await ctx.nextSeq('jobs', jobs.length) : 0;
  const docs = jobs.map((j, i) => jobToDoc(j, first + i));
  const now = bdoc.created_at;
  try {
    await ctx.unit(async (u) => {
      // An empty batch is completed at once; with a webhook it gets its `batch` record.
      const intent = jobs.length === 0 && batch.webhook ? ctx.intent('batch', { status: batch.status }, now) : null;
      await ctx.c.batches.insertOne({ ...bdoc, ...(intent && !u.session ? { outbox_intents: [intent] } : {}) }, ctx.opts(u));
      if (docs.length) await ctx.c.jobs.insertMany(docs.map((d) => ({ ...d })), { ...ctx.opts(u), ordered: true });
      await afterInsert(ctx, u, docs, now, false);
      ctx.emitBatch(u, batch.batch_id, batch.status);
      await ctx.recordOutbox(u, { batch_id: batch.batch_id }, intent, true);
    });
  } catch (err) {
    if (!isExternalIdClash(err)) throw err;
    if (!ctx.transactions) {
      await ctx.c.jobs.deleteMany({ job_id: { $in: jobs.map((j) => j.job_id) }, status: 'pending' });
      await ctx.c.batches.deleteOne({ batch_id: batch.batch_id });
    }
    throw duplicate((await existingExternal(ctx, jobs)) ?? 'unknown');
  }
  return { batch, jobs };
};
