/**
 * The embedded SQLite store (default): one file, WAL mode, `BEGIN IMMEDIATE` for every write,
 * so claims are atomic across all processes that open the same file. Events are in-process
 * only (`crossProcessEvents: false`); other processes on the same file rely on polling.
 *
 * Durability: `synchronous = NORMAL` in WAL mode survives a process crash (SIGKILL) without
 * losing committed transactions; a power cut may lose the last few. Set
 * `store.sqlite_synchronous: full` for power-loss durability at some throughput cost.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  Batch,
  ClaimedJob,
  Job,
  JobError,
  JobProgress,
  LlmInfo,
  LogEntry,
  NewBatch,
  NewJob,
} from '../../core/job.js';
import { SecretaryError } from '../../core/errors.js';
import { EventHub } from '../event-hub.js';
import {
  DEFAULT_STORE_LIMITS,
  type BatchFilter,
  type CancelResult,
  type ClaimRequest,
  type DeleteResult,
  type DeliveryAttempt,
  type FailOptions,
  type JobFilter,
  type JobStore,
  type Lease,
  type OutboxClaimRequest,
  type OutboxFinish,
  type OutboxRecord,
  type Page,
  type PageRequest,
  type PurgeResult,
  type ReapResult,
  type RetryResult,
  type StoreCapabilities,
  type StoreLimits,
  type StoreListener,
  type StoreStats,
  type BatchUsage,
} from '../job-store.js';
import { buildBatch, buildJob, checkExternalId, jobChange } from '../store-shared.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import {
  jobToParams,
  ms,
  jsonOrNull,
  rowToBatch,
  rowToJob,
  type BatchRow,
  type JobRow,
} from './rows.js';
import { SqliteContext } from './sqlite-context.js';
import { claimJobs } from './sqlite-claim.js';
import * as tx from './sqlite-transitions.js';
import * as outbox from './sqlite-outbox.js';
import * as q from './sqlite-queries.js';

export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a private in-memory store. */
  path: string;
  limits?: Partial<StoreLimits>;
  /** `normal` (default) or `full`. */
  synchronous?: 'normal' | 'full';
}

const INSERT_JOB = `INSERT INTO jobs (job_id, job_type, status, parameters, webhook, created_at, updated_at, batch_id,
  user_id, access_control, visibility, external_id, priority, run_at, max_attempts)
  VALUES (@job_id, @job_type, @status, @parameters, @webhook, @created_at, @updated_at, @batch_id,
  @user_id, @access_control, @visibility, @external_id, @priority, @run_at, @max_attempts)`;

export class SqliteJobStore implements JobStore {
  readonly name = 'sqlite';
  readonly capabilities: StoreCapabilities = Object.freeze({
    crossProcessEvents: false,
    skipLocked: false,
    transactions: true,
    multiProcess: true,
  });
  private readonly hub = new EventHub();
  private readonly ctx: SqliteContext;
  private closed = false;

  constructor(private readonly opts: SqliteStoreOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    const db = new Database(opts.path, { timeout: 15_000 });
    db.pragma('journal_mode = WAL');
    db.pragma(
      `synchronous = ${opts.synchronous === 'full' ? 'FULL' : opts.synchronous === ('off' as string) ? 'OFF' : 'NORMAL'}`,
    );
    db.pragma('busy_timeout = 15000');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -32000');
    db.pragma('wal_autocheckpoint = 4000');
    this.ctx = new SqliteContext(db, { ...DEFAULT_STORE_LIMITS, ...opts.limits }, this.hub);
  }

  async init(): Promise<void> {
    const db = this.ctx.db;
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      for (const m of SQLITE_MIGRATIONS) {
        if (m.id <= current) continue;
        db.exec(m.sql);
        db.pragma(`user_version = ${m.id}`);
      }
    }).immediate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx.db.close();
  }

  subscribe(listener: StoreListener): () => void {
    return this.hub.subscribe(listener);
  }

  // ------------------------------------------------------------------ create and read

  private insertJob(job: Job): void {
    this.ctx.stmt(INSERT_JOB).run(jobToParams(job));
    this.ctx.emit({ type: 'job', change: jobChange(job) });
  }

  private existingExternal(ids: (string | null)[]): string | null {
    const seen = new Set<string>();
    for (const id of ids) {
      if (id === null) continue;
      if (seen.has(id)) return id;
      seen.add(id);
      if (this.ctx.stmt(`SELECT 1 FROM jobs WHERE external_id = ?`).get(id)) return id;
    }
    return null;
  }

  async createJob(input: NewJob): Promise<{ job: Job; created: boolean }> {
    checkExternalId(input.external_id);
    const job = buildJob(input, new Date().toISOString());
    return this.ctx.enqueue(() => {
      if (job.external_id !== null) {
        const found = this.ctx
          .stmt(`SELECT * FROM jobs WHERE external_id = ?`)
          .get(job.external_id) as JobRow | undefined;
        if (found) return { job: rowToJob(found), created: false };
      }
      this.insertJob(job);
      if (job.batch_id) this.ctx.moveBatch(job.batch_id, null, 'pending', Date.now());
      this.ctx.emit({ type: 'enqueued', job_types: [job.job_type] });
      return { job, created: true };
    });
  }

  async createJobs(inputs: NewJob[]): Promise<Job[]> {
    inputs.forEach((i) => checkExternalId(i.external_id));
    const now = new Date().toISOString();
    const jobs = inputs.map((i) => buildJob(i, now));
    if (jobs.length === 0) return [];
    return this.ctx.enqueue(() => {
      const dup = this.existingExternal(jobs.map((j) => j.external_id));
      if (dup !== null)
        throw new SecretaryError('DUPLICATE_EXTERNAL_ID', `external_id already exists: ${dup}`);
      for (const j of jobs) {
        this.insertJob(j);
        if (j.batch_id) this.ctx.moveBatch(j.batch_id, null, 'pending', ms(now));
      }
      this.ctx.emit({ type: 'enqueued', job_types: [...new Set(jobs.map((j) => j.job_type))] });
      return jobs;
    });
  }

  async createBatch(input: NewBatch): Promise<{ batch: Batch; jobs: Job[] }> {
    input.jobs.forEach((i) => checkExternalId(i.external_id));
    const now = new Date().toISOString();
    const batch = buildBatch(input, now);
    const jobs = input.jobs.map((i) =>
      buildJob({ ...i, user_id: i.user_id ?? input.user_id ?? null }, now, batch.batch_id),
    );
    return this.ctx.enqueue(() => {
      const dup = this.existingExternal(jobs.map((j) => j.external_id));
      if (dup !== null)
        throw new SecretaryError('DUPLICATE_EXTERNAL_ID', `external_id already exists: ${dup}`);
      this.ctx
        .stmt(
          `INSERT INTO batches (batch_id, batch_name, status, total_jobs, pending_jobs, processing_jobs, completed_jobs,
             failed_jobs, cancelled_jobs, created_at, updated_at, completed_at, user_id, access_control, visibility, webhook)
           VALUES (@batch_id, @batch_name, @status, @total_jobs, @pending_jobs, 0, 0, 0, 0, @created_at, @created_at,
             @completed_at, @user_id, @access_control, @visibility, @webhook)`,
        )
        .run({
          ...batch,
          created_at: ms(now),
          completed_at: batch.completed_at ? ms(batch.completed_at) : null,
          access_control: JSON.stringify(batch.access_control),
          visibility: batch.access_control.visibility,
          webhook: jsonOrNull(batch.webhook),
        });
      for (const j of jobs) this.insertJob(j);
      this.ctx.emit({ type: 'batch', batch_id: batch.batch_id, status: batch.status });
      if (jobs.length)
        this.ctx.emit({ type: 'enqueued', job_types: [...new Set(jobs.map((j) => j.job_type))] });
      else if (batch.webhook)
        this.ctx.insertOutbox(
          'batch',
          { batch_id: batch.batch_id },
          { status: batch.status },
          ms(now),
        );
      return { batch, jobs };
    });
  }

  async getJob(jobId: string): Promise<Job | null> {
    const row = this.ctx.stmt(`SELECT * FROM jobs WHERE job_id = ?`).get(jobId) as
      JobRow | undefined;
    return row ? rowToJob(row) : null;
  }

  async getJobByExternalId(externalId: string): Promise<Job | null> {
    const row = this.ctx.stmt(`SELECT * FROM jobs WHERE external_id = ?`).get(externalId) as
      JobRow | undefined;
    return row ? rowToJob(row) : null;
  }

  async getJobVersion(jobId: string): Promise<number | null> {
    const row = this.ctx.stmt(`SELECT version FROM jobs WHERE job_id = ?`).get(jobId) as
      { version: number } | undefined;
    return row ? row.version : null;
  }

  async listJobs(filter: JobFilter, page?: PageRequest): Promise<Page<Job>> {
    return q.listJobs(this.ctx, filter, page);
  }

  async getBatch(batchId: string): Promise<Batch | null> {
    const row = this.ctx.stmt(`SELECT * FROM batches WHERE batch_id = ?`).get(batchId) as
      BatchRow | undefined;
    return row ? rowToBatch(row) : null;
  }

  async listBatches(filter: BatchFilter, page?: PageRequest): Promise<Page<Batch>> {
    return q.listBatches(this.ctx, filter, page);
  }

  // ------------------------------------------------------------------ worker side

  async claim(req: ClaimRequest): Promise<ClaimedJob[]> {
    return this.ctx.enqueue(() => claimJobs(this.ctx, req));
  }

  async extendLeases(owner: string, leases: Lease[], leaseMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.ctx.enqueue(() => tx.extendLeases(this.ctx, owner, leases, leaseMs));
  }

  async updateProgress(lease: Lease, progress: JobProgress): Promise<boolean> {
    return this.ctx.enqueue(() => tx.updateProgress(this.ctx, lease, progress));
  }

  async appendLog(lease: Lease, entry: LogEntry): Promise<boolean> {
    return this.ctx.enqueue(() => tx.appendLog(this.ctx, lease, lease.job_id, entry));
  }

  async setLlmInfo(lease: Lease, info: LlmInfo): Promise<boolean> {
    return this.ctx.enqueue(() => tx.setLlmInfo(this.ctx, lease, info));
  }

  async complete(
    lease: Lease,
    results: Record<string, unknown>,
    logs?: LogEntry[],
  ): Promise<boolean> {
    return this.ctx.enqueue(() => tx.complete(this.ctx, lease, results, logs));
  }

  async fail(
    lease: Lease,
    error: JobError,
    opts?: FailOptions,
    logs?: LogEntry[],
  ): Promise<boolean> {
    return this.ctx.enqueue(() => tx.fail(this.ctx, lease, error, opts?.retryAt, logs));
  }

  async release(lease: Lease, reason: string): Promise<boolean> {
    return this.ctx.enqueue(() => tx.release(this.ctx, lease, reason));
  }

  // ------------------------------------------------------------------ control

  async cancelJob(jobId: string, reason?: string): Promise<CancelResult> {
    return this.ctx.enqueue(() => tx.cancel(this.ctx, jobId, reason));
  }

  async retryJob(jobId: string): Promise<RetryResult> {
    return this.ctx.enqueue(() => tx.retry(this.ctx, jobId));
  }

  async deleteJob(jobId: string): Promise<DeleteResult> {
    return this.ctx.enqueue(() => tx.remove(this.ctx, jobId));
  }

  async addJobLog(jobId: string, entry: LogEntry): Promise<boolean> {
    return this.ctx.enqueue(() => tx.appendLog(this.ctx, null, jobId, entry));
  }

  async reapExpiredLeases(): Promise<ReapResult> {
    return this.ctx.enqueue(() => tx.reap(this.ctx));
  }

  async purgeFinished(olderThan: string, limit = 1000): Promise<PurgeResult> {
    const cutoff = ms(olderThan);
    return this.ctx.enqueue(() => {
      const rows = q.purgeable(this.ctx, cutoff, limit);
      const delOutbox = this.ctx.stmt(`DELETE FROM outbox WHERE job_id = ?`);
      const delJob = this.ctx.stmt(`DELETE FROM jobs WHERE job_id = ?`);
      let outboxCount = 0;
      for (const r of rows) {
        outboxCount += delOutbox.run(r.job_id).changes;
        delJob.run(r.job_id);
      }
      const batchWhere = `status IN ('completed', 'failed', 'cancelled') AND completed_at < ?
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.batch_id = batches.batch_id)`;
      outboxCount += this.ctx
        .stmt(
          `DELETE FROM outbox WHERE job_id IS NULL AND batch_id IN (SELECT batch_id FROM batches WHERE ${batchWhere})`,
        )
        .run(cutoff).changes;
      const batches = this.ctx.stmt(`DELETE FROM batches WHERE ${batchWhere}`).run(cutoff).changes;
      return {
        jobs: rows.map((r) => ({
          job_id: r.job_id,
          parameters: JSON.parse(r.parameters) as Record<string, unknown>,
          results: r.results ? (JSON.parse(r.results) as Record<string, unknown>) : null,
        })),
        batches,
        outbox: outboxCount,
      };
    });
  }

  async batchUsage(batchId: string): Promise<BatchUsage> {
    return q.batchUsage(this.ctx, batchId);
  }

  async stats(): Promise<StoreStats> {
    return q.stats(this.ctx);
  }

  // ------------------------------------------------------------------ outbox

  async claimOutbox(req: OutboxClaimRequest): Promise<OutboxRecord[]> {
    return this.ctx.enqueue(() => outbox.claimOutbox(this.ctx, req));
  }

  async finishOutbox(eventId: string, owner: string, finish: OutboxFinish): Promise<boolean> {
    return this.ctx.enqueue(() => outbox.finishOutbox(this.ctx, eventId, owner, finish));
  }

  async redeliver(jobId: string): Promise<OutboxRecord | null> {
    return this.ctx.enqueue(() => outbox.redeliver(this.ctx, jobId));
  }

  async listOutbox(jobId: string): Promise<OutboxRecord[]> {
    return outbox.listOutbox(this.ctx, jobId);
  }

  async getDeliveries(jobId: string): Promise<DeliveryAttempt[]> {
    return outbox.getDeliveries(this.ctx, jobId);
  }
}
