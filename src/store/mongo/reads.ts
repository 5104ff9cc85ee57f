/** Lists, stats and retention of the MongoDB store. */
import type { Batch, Job, JobStatus } from '../../core/job.js';
import { TERMINAL_STATUSES } from '../../core/job.js';
import { pageLimit, type BatchFilter, type BatchUsage, type JobFilter, type Page, type PageRequest, type PurgeResult, type StoreStats } from '../job-store.js';
import { docToBatch, docToJob, toDate } from './documents.js';
import type { MongoContext } from './context.js';
import { batchListFilter, decodeListCursor, jobListFilter, LIST_SORT, pageOf } from './queries.js';

export const listJobs = async (ctx: MongoContext, f: JobFilter, page?: PageRequest): Promise<Page<Job>> => {
  const limit = pageLimit(page);
  const rows = await ctx.c.jobs.find(jobListFilter(f, decodeListCursor(page?.cursor)), { sort: LIST_SORT, limit: limit + 1 }).toArray();
  return pageOf(rows, limit, docToJob);
};

export const listBatches = async (ctx: MongoContext, f: BatchFilter, page?: PageRequest): Promise<Page<Batch>> => {
  const limit = pageLimit(page);
  const rows = await ctx.c.batches.find(batchListFilter(f, decodeListCursor(page?.cursor)), { sort: LIST_SORT, limit: limit + 1 }).toArray();
  return pageOf(rows, limit, docToBatch);
};

export const stats = async (ctx: MongoContext): Promise<StoreStats> => {
  const rows = await ctx.c.jobs
    .aggregate<{ _id: { job_type: string; status: JobStatus }; count: number }>([
      { $group: { _id: { job_type: '$job_type', status: '$status' }, count: { $sum: 1 } } },
      { $sort: { '_id.job_type': 1, '_id.status': 1 } },
    ])
    .toArray();
  const [ready, outbox] = await Promise.all([
    ctx.c.jobs.countDocuments({ status: 'pending', run_at: { $lte: new Date() } }),
    ctx.c.outbox.countDocuments({ status: { $in: ['pending', 'sending'] } }),
  ]);
  return {
    by_status: rows.map((r) => ({ job_type: r._id.job_type, status: r._id.status, count: r.count })),
    ready,
    outbox_pending: outbox,
  };
};

/** Sums the `llm_info` of a batch's jobs on the server (`jobs_batch_seq` index). */
export const batchUsage = async (ctx: MongoContext, batchId: string): Promise<BatchUsage> => {
  const [r] = await ctx.c.jobs
    .aggregate<Omit<BatchUsage, 'total_cost'> & { cost: number; unpriced: number }>([
      { $match: { batch_id: batchId, llm_info: { $type: 'object' } } },
      {
        $group: {
          _id: null,
          jobs_with_usage: { $sum: 1 },
          requests_count: { $sum: '$llm_info.requests_count' },
          total_tokens: { $sum: '$llm_info.total_tokens' },
          total_duration: { $sum: '$llm_info.total_duration' },
          cost: { $sum: '$llm_info.total_cost' },
          unpriced: { $sum: { $cond: [{ $eq: [{ $type: '$llm_info.total_cost' }, 'null'] }, 1, 0] } },
        },
      },
    ])
    .toArray();
  if (!r) return { jobs_with_usage: 0, requests_count: 0, total_tokens: 0, total_duration: 0, total_cost: 0 };
  const { cost, unpriced, ...counts } = r;
  delete (counts as { _id?: unknown })._id;
  return { ...counts, total_cost: unpriced > 0 ? null : Math.round(cost * 1e8) / 1e8 };
};

/**
 * Removes terminal jobs finished before `olderThan` (each with a conditional delete, so a job
 * retried meanwhile stays), their outbox records, finished outbox records of that age, and
 * terminal batches of that age without jobs. Batch counters are left as they were (history).
 */
export const purgeFinished = async (ctx: MongoContext, olderThan: string, limit: number): Promise<PurgeResult> => {
  const cutoff = toDate(olderThan);
  const terminal = { status: { $in: [...TERMINAL_STATUSES] }, completed_at: { $lt: cutoff } };
  const candidates = await ctx.c.jobs
    .find(terminal, { projection: { job_id: 1 }, sort: { completed_at: 1 }, limit: Math.max(1, Math.trunc(limit)) })
    .toArray();
  const jobs: PurgeResult['jobs'] = [];
  for (const c of candidates) {
    const d = await ctx.c.jobs.findOneAndDelete({ job_id: c.job_id, ...terminal }, { projection: { job_id: 1, parameters: 1, results: 1 } });
    if (d) jobs.push({ job_id: d.job_id, parameters: d.parameters ?? {}, results: d.results ?? null });
  }
  let outbox = 0;
  if (jobs.length) outbox += (await ctx.c.outbox.deleteMany({ job_id: { $in: jobs.map((j) => j.job_id) } })).deletedCount;
  outbox += (await ctx.c.outbox.deleteMany({ status: { $in: ['delivered', 'failed', 'skipped'] }, created_at: { $lt: cutoff } })).deletedCount;
  let batches = 0;
  const old = await ctx.c.batches.find(terminal, { projection: { batch_id: 1 }, limit: 1000 }).toArray();
  for (const b of old) {
    if (await ctx.c.jobs.findOne({ batch_id: b.batch_id }, { projection: { _id: 1 } })) continue;
    batches += (await ctx.c.batches.deleteOne({ batch_id: b.batch_id, ...terminal })).deletedCount;
    outbox += (await ctx.c.outbox.deleteMany({ batch_id: b.batch_id, job_id: null })).deletedCount;
  }
  return { jobs, batches, outbox };
};
