/**
 * The PostgreSQL store: several processes and hosts share one database. Claims use
 * `FOR UPDATE SKIP LOCKED`; every transition (job row, batch counters, outbox record) is one
 * statement, so one round trip and one transaction; worker finishes, progress, lease renewals
 * and single creates are group-committed (many callers' writes in one statement and one commit,
 * see pg-grouped-writes.ts). Events are published in-process right after
 * commit and reach other processes through LISTEN/NOTIFY (`crossProcessEvents`, see notifier.ts).
 *
 * See docs/postgres.md for the schema, the claim, NOTIFY and pooler notes.
 */
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
  pageLimit,
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
import { encodeCursor } from '../store-shared.js';
import { NotificationListener } from './listener.js';
import { runMigrations } from './migrations.js';
import { decodeNotification } from './notifications.js';
import { claimJobs } from './pg-claim.js';
import * as create from './pg-create.js';
import { PgContext } from './pg-context.js';
import { GroupedWrites } from './pg-grouped-writes.js';
import { mapPgError } from './pg-errors.js';
import { pgNames } from './pg-names.js';
import * as outbox from './pg-outbox.js';
import * as tx from './pg-transitions.js';
import { rowToBatch, rowToJob, type BatchRow, type JobRow } from './rows.js';
import { listBatchesQuery, listJobsQuery } from './sql/lists.js';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:5432/db`. */
  url: string;
  /** Schema holding the tables (created by `init`). Default `public`. */
  schema?: string;
  limits?: Partial<StoreLimits>;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Direct URL for the LISTEN connection when `url` goes through a transaction-mode pooler. Default `url`. */
  listenUrl?: string;
  /** Named prepared statements (parse and plan once per connection). Default true; turn off
   *  for poolers that do not support them (PgBouncer before 1.21 in transaction mode). */
  preparedStatements?: boolean;
  /** Told about failures of cross-process events (LISTEN connection, NOTIFY); the store never logs. */
  onEventsError?: (err: Error) => void;
}

export class PostgresJobStore implements JobStore {
  readonly name = 'postgres';
  readonly capabilities: StoreCapabilities = Object.freeze({
    crossProcessEvents: true,
    skipLocked: true,
    transactions: true,
    multiProcess: true,
  });
  private readonly hub = new EventHub();
  private readonly ctx: PgContext;
  private readonly listener: NotificationListener;
  private readonly groups: GroupedWrites;
  private closed = false;

  constructor(private readonly opts: PostgresStoreOptions) {
    const names = pgNames(opts.schema ?? 'public');
    this.ctx = new PgContext({
      url: opts.url,
      poolSize: opts.poolSize ?? 10,
      names,
      limits: { ...DEFAULT_STORE_LIMITS, ...opts.limits },
      hub: this.hub,
      preparedStatements: opts.preparedStatements ?? true,
      onNotifyError: opts.onEventsError,
    });
    this.groups = new GroupedWrites(this.ctx);
    this.listener = new NotificationListener({
      url: opts.listenUrl ?? opts.url,
      channel: names.channel,
      applicationName: 'secretary-listener',
      onNotification: (payload) =>
        this.ctx.publishRemote(decodeNotification(payload, names.origin)),
      onError: opts.onEventsError,
    });
  }

  /** Applies migrations, then starts listening (a failing LISTEN retries in the background). */
  async init(): Promise<void> {
    let client;
    try {
      client = await this.ctx.pool.connect();
    } catch (err) {
      throw mapPgError(err);
    }
    try {
      await runMigrations(client, this.ctx.names.schema);
    } finally {
      client.release();
    }
    await this.listener.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.groups.drain();
    await this.listener.stop();
    await this.ctx.end();
  }

  subscribe(listener: StoreListener): () => void {
    return this.hub.subscribe(listener);
  }

  /** Whether the LISTEN connection is up (cross-process events flow). */
  get listening(): boolean {
    return this.listener.connected;
  }

  /** Backend pid of the LISTEN connection, or null. */
  get listenerPid(): number | null {
    return this.listener.pid;
  }

  // ------------------------------------------------------------------ create and read

  async createJob(input: NewJob): Promise<{ job: Job; created: boolean }> {
    return create.createJob(this.ctx, this.groups, input);
  }

  async createJobs(inputs: NewJob[]): Promise<Job[]> {
    return create.createJobs(this.ctx, inputs);
  }

  async createBatch(input: NewBatch): Promise<{ batch: Batch; jobs: Job[] }> {
    return create.createBatch(this.ctx, input);
  }

  async getJob(jobId: string): Promise<Job | null> {
    const [row] = await this.ctx.rows<JobRow>(this.ctx.sql.getJob, [jobId]);
    return row ? rowToJob(row) : null;
  }

  async getJobByExternalId(externalId: string): Promise<Job | null> {
    const [row] = await this.ctx.rows<JobRow>(this.ctx.sql.getJobByExternalId, [externalId]);
    return row ? rowToJob(row) : null;
  }

  async getJobVersion(jobId: string): Promise<number | null> {
    const [row] = await this.ctx.rows<{ version: number }>(this.ctx.sql.getJobVersion, [jobId]);
    return row ? row.version : null;
  }

  async listJobs(filter: JobFilter, page?: PageRequest): Promise<Page<Job>> {
    const limit = pageLimit(page);
    const q = listJobsQuery(this.ctx.names, filter, page?.cursor, limit);
    const rows = await this.ctx.rows<JobRow>(q, q.values);
    return toPage(rows, limit, rowToJob);
  }

  async getBatch(batchId: string): Promise<Batch | null> {
    const [row] = await this.ctx.rows<BatchRow>(this.ctx.sql.getBatch, [batchId]);
    return row ? rowToBatch(row) : null;
  }

  async listBatches(filter: BatchFilter, page?: PageRequest): Promise<Page<Batch>> {
    const limit = pageLimit(page);
    const q = listBatchesQuery(this.ctx.names, filter, page?.cursor, limit);
    const rows = await this.ctx.rows<BatchRow>(q, q.values);
    return toPage(rows, limit, rowToBatch);
  }

  // ------------------------------------------------------------------ worker side

  async claim(req: ClaimRequest): Promise<ClaimedJob[]> {
    return claimJobs(this.ctx, req);
  }

  async extendLeases(owner: string, leases: Lease[], leaseMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.groups.extend.push<string[]>({
      owner,
      leases,
      leaseMs: Math.max(0, Math.round(leaseMs)),
    });
  }

  async updateProgress(lease: Lease, progress: JobProgress): Promise<boolean> {
    return tx.updateProgress(this.groups, lease, progress);
  }

  async appendLog(lease: Lease, entry: LogEntry): Promise<boolean> {
    return tx.appendLog(this.ctx, lease, lease.job_id, entry);
  }

  async setLlmInfo(lease: Lease, info: LlmInfo): Promise<boolean> {
    return tx.setLlmInfo(this.ctx, lease, info);
  }

  async complete(
    lease: Lease,
    results: Record<string, unknown>,
    logs?: LogEntry[],
  ): Promise<boolean> {
    return tx.complete(this.ctx, this.groups, lease, results, logs);
  }

  async fail(
    lease: Lease,
    error: JobError,
    opts?: FailOptions,
    logs?: LogEntry[],
  ): Promise<boolean> {
    return tx.fail(this.ctx, this.groups, lease, error, opts?.retryAt, logs);
  }

  async release(lease: Lease, reason: string): Promise<boolean> {
    return tx.release(this.ctx, this.groups, lease, reason);
  }

  // ------------------------------------------------------------------ control

  async cancelJob(jobId: string, reason?: string): Promise<CancelResult> {
    return tx.cancel(this.ctx, jobId, reason);
  }

  async retryJob(jobId: string): Promise<RetryResult> {
    return tx.retry(this.ctx, jobId);
  }

  async deleteJob(jobId: string): Promise<DeleteResult> {
    return tx.remove(this.ctx, jobId);
  }

  async addJobLog(jobId: string, entry: LogEntry): Promise<boolean> {
    return tx.appendLog(this.ctx, null, jobId, entry);
  }

  async reapExpiredLeases(): Promise<ReapResult> {
    return tx.reap(this.ctx);
  }

  async purgeFinished(olderThan: string, limit = 1000): Promise<PurgeResult> {
    const at = Date.parse(olderThan);
    if (Number.isNaN(at)) {
      throw new SecretaryError('INVALID_PARAMETERS', `olderThan is not an instant: ${olderThan}`);
    }
    const cutoff = new Date(at).toISOString();
    const jobs = await this.ctx.rows<{
      job_id: string;
      parameters: Record<string, unknown>;
      results: Record<string, unknown> | null;
      outbox: number;
    }>(this.ctx.sql.purgeJobs, [cutoff, Math.max(1, Math.floor(limit))]);
    const [rest] = await this.ctx.rows<{ batches: number; outbox: number }>(
      this.ctx.sql.purgeRest,
      [cutoff],
    );
    return {
      jobs: jobs.map((j) => ({ job_id: j.job_id, parameters: j.parameters, results: j.results })),
      batches: rest?.batches ?? 0,
      outbox: (jobs[0]?.outbox ?? 0) + (rest?.outbox ?? 0),
    };
  }

  async batchUsage(batchId: string): Promise<BatchUsage> {
    const [r] = await this.ctx.rows<
      Omit<BatchUsage, 'total_cost'> & { cost: number; unpriced: number }
    >(this.ctx.sql.batchUsage, [batchId]);
    if (!r)
      return {
        jobs_with_usage: 0,
        requests_count: 0,
        total_tokens: 0,
        total_duration: 0,
        total_cost: 0,
      };
    const { cost, unpriced, ...counts } = r;
    return { ...counts, total_cost: unpriced > 0 ? null : Math.round(cost * 1e8) / 1e8 };
  }

  async stats(): Promise<StoreStats> {
    const [row] = await this.ctx.rows<StoreStats>(this.ctx.sql.stats, []);
    return row ?? { by_status: [], ready: 0, outbox_pending: 0 };
  }

  // ------------------------------------------------------------------ outbox

  async claimOutbox(req: OutboxClaimRequest): Promise<OutboxRecord[]> {
    return outbox.claimOutbox(this.ctx, req);
  }

  async finishOutbox(eventId: string, owner: string, finish: OutboxFinish): Promise<boolean> {
    return outbox.finishOutbox(this.ctx, eventId, owner, finish);
  }

  async redeliver(jobId: string): Promise<OutboxRecord | null> {
    return outbox.redeliver(this.ctx, jobId);
  }

  async listOutbox(jobId: string): Promise<OutboxRecord[]> {
    return outbox.listOutbox(this.ctx, jobId);
  }

  async getDeliveries(jobId: string): Promise<DeliveryAttempt[]> {
    return outbox.getDeliveries(this.ctx, jobId);
  }
}

const toPage = <R extends { seq: string }, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
): Page<T> => {
  const more = rows.length > limit;
  const last = rows[limit - 1];
  return {
    items: (more ? rows.slice(0, limit) : rows).map(map),
    next_cursor: more && last ? encodeCursor([Number(last.seq), 's']) : null,
  };
};
