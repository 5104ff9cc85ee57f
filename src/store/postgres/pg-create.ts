/**
 * Creating jobs and batches in the PostgreSQL store. Inputs are validated and filled by the shared
 * `buildJob`/`buildBatch`; the rows are inserted from one JSON array parameter in input order,
 * with timestamps from the database clock.
 */
import { SecretaryError } from '../../core/errors.js';
import type { Batch, Job, NewBatch, NewJob } from '../../core/job.js';
import { buildBatch, buildJob, checkExternalId } from '../store-shared.js';
import type { PgContext } from './pg-context.js';
import type { GroupedWrites } from './pg-grouped-writes.js';
import { jobInsertValue, rowToBatch, rowToJob, type BatchRow, type JobRow } from './rows.js';
import type { BatchChanges } from './sql/batch.js';

type InsertedRow = JobRow & { batch_changes: BatchChanges };

const insertPayload = (jobs: Job[], inputs: NewJob[]): string =>
  JSON.stringify(jobs.map((j, i) => jobInsertValue(j, inputs[i]?.run_at ?? null)));

const checkDuplicates = (jobs: Job[]): void => {
  const seen = new Set<string>();
  for (const j of jobs) {
    if (j.external_id === null) continue;
    if (seen.has(j.external_id)) {
      throw new SecretaryError(
        'DUPLICATE_EXTERNAL_ID',
        `external_id repeats in the call: ${j.external_id}`,
      );
    }
    seen.add(j.external_id);
  }
};

const insertJobs = async (ctx: PgContext, jobs: Job[], inputs: NewJob[]): Promise<Job[]> => {
  const rows = await ctx.rows<InsertedRow>(ctx.sql.insertJobs, [insertPayload(jobs, inputs)]);
  ctx.publishChanges(rows, rows[0]?.batch_changes);
  return rows.map(rowToJob);
};

/**
 * Create-or-find by external_id: `ON CONFLICT DO NOTHING`, then read the existing job. Concurrent
 * single creates are group-committed (one INSERT and one commit for all of them).
 */
export const createJob = async (
  ctx: PgContext,
  groups: GroupedWrites,
  input: NewJob,
): Promise<{ job: Job; created: boolean }> => {
  checkExternalId(input.external_id);
  const job = buildJob(input, new Date().toISOString());
  for (let tries = 0; tries < 5; tries += 1) {
    const created = await groups.create.push<Job | null>({ job, runAt: input.run_at ?? null });
    if (created) return { job: created, created: true };
    // The external_id exists: return that job (unless it was deleted meanwhile: insert again).
    const [existing] = await ctx.rows<JobRow>(ctx.sql.getJobByExternalId, [job.external_id]);
    if (existing) return { job: rowToJob(existing), created: false };
  }
  throw new SecretaryError(
    'STORE_ERROR',
    'createJob: external_id kept changing under concurrent deletes',
  );
};

/** All or nothing: an existing external_id fails the statement (DUPLICATE_EXTERNAL_ID). */
export const createJobs = async (ctx: PgContext, inputs: NewJob[]): Promise<Job[]> => {
  inputs.forEach((i) => checkExternalId(i.external_id));
  const now = new Date().toISOString();
  const jobs = inputs.map((i) => buildJob(i, now));
  if (jobs.length === 0) return [];
  checkDuplicates(jobs);
  return insertJobs(ctx, jobs, inputs);
};

/** The batch row (with its counters set) and its jobs, in one transaction. */
export const createBatch = async (
  ctx: PgContext,
  input: NewBatch,
): Promise<{ batch: Batch; jobs: Job[] }> => {
  input.jobs.forEach((i) => checkExternalId(i.external_id));
  const now = new Date().toISOString();
  const batch = buildBatch(input, now);
  const inputs = input.jobs.map((i) => ({ ...i, user_id: i.user_id ?? input.user_id ?? null }));
  const jobs = inputs.map((i) => buildJob(i, now, batch.batch_id));
  checkDuplicates(jobs);
  const { batchRow, jobRows } = await ctx.tx(async (c) => {
    const [b] = await ctx.rows<BatchRow & { outboxed: boolean }>(
      ctx.sql.insertBatch,
      [
        batch.batch_id,
        batch.batch_name,
        batch.status,
        batch.total_jobs,
        batch.user_id,
        JSON.stringify(batch.access_control),
        batch.webhook ? JSON.stringify(batch.webhook) : null,
      ],
      c,
    );
    if (!b)
      throw new SecretaryError('STORE_ERROR', 'createBatch: the batch insert returned nothing');
    const rows = jobs.length
      ? await ctx.rows<InsertedRow>(ctx.sql.insertBatchJobs, [insertPayload(jobs, inputs)], c)
      : [];
    return { batchRow: b, jobRows: rows };
  });
  ctx.publishChanges(jobRows, [[batchRow.batch_id, batchRow.status, batchRow.outboxed]]);
  return { batch: rowToBatch(batchRow), jobs: jobRows.map(rowToJob) };
};
