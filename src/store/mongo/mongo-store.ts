/**
 * The MongoDB store: the users' production database (collections `jobs` and `batches` in the
 * seeds' document shape, plus `outbox`, `counters` and `job_type_slots`). See docs/mongodb.md.
 *
 * - Claims are `findOneAndUpdate` with the queue sort, atomic per document (claim.ts).
 * - Worker writes are fenced by `{job_id, lease_token, status: 'processing'}`.
 * - On a replica set / sharded cluster (detected with `hello`) a transition, its batch
 *   counters and its outbox record are one transaction and events cross processes through a
 *   change stream; on a standalone server they are ordered writes with repair (context.ts,
 *   repair.ts) and events are in-process only (other processes poll).
 */
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { SecretaryError } from '../../core/errors.js';
import type { Batch, ClaimedJob, Job, JobError, JobProgress, LlmInfo, LogEntry, NewBatch, NewJob } from '../../core/job.js';
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
import { buildBatch, buildJob, checkExternalId } from '../store-shared.js';
import { ChangeFeed, RecentKeys } from './change-events.js';
import { claimJobs } from './claim.js';
import { MongoContext, toStoreError } from './context.js';
import { createBatch, createJob, createJobs } from './create.js';
import { dbNameFromUrl, docToBatch, docToJob, findDollarKey } from './documents.js';
import { collectionNames, ensureIndexes, openCollections } from './indexes.js';
import * as outbox from './outbox.js';
import { externalIdMatch } from './queries.js';
import * as reads from './reads.js';
import { batchesToCheck, reap, recountBatch, reconcileSlots, repairIntents, type RecountOutcome } from './repair.js';
import * as tx from './transitions.js';

export interface MongoStoreOptions {
  /** `mongodb://…` or `mongodb+srv://…`. */
  url: string;
  /** Database name. Default: the URI's path (`mongodb://host/secretary` → `secretary`), like the original. */
  dbName?: string;
  limits?: Partial<StoreLimits>;
  /** Prefix of every collection name (tests). Default none: `jobs`, `batches`, … */
  collectionPrefix?: string;
  /** Use transactions when the deployment has them (replica set, mongos). Default true. */
  transactions?: boolean;
  /** Repairs run at most this often, from `reapExpiredLeases`. Default 30 000 ms. */
  repairIntervalMs?: number;
  /** A half-written transition (no transactions) is repaired once older than this. Default 60 000 ms. */
  repairGraceMs?: number;
  /** A batch is recounted only after none of its jobs changed for this long. Default 10 000 ms. */
  recountQuietMs?: number;
  /** Receives failures of background work (change stream, repairs); they never throw. */
  onError?: (err: Error, context: string) => void;
  /** Passed to `MongoClient`. */
  clientOptions?: MongoClientOptions;
}

const BEFORE_INIT: StoreCapabilities = Object.freeze({
  crossProcessEvents: false,
  skipLocked: false,
  transactions: false,
  multiProcess: true,
});

const refuseDollarKeys = (input: NewJob | NewBatch): void => {
  const bad = findDollarKey({ parameters: (input as NewJob).parameters ?? {}, webhook: input.webhook ?? null });
  if (bad) {
    throw new SecretaryError('INVALID_PARAMETERS', `keys starting with $ cannot be stored: ${bad}`, {
      details: [{ path: bad, problem: 'keys starting with $ are not allowed' }],
    });
  }
};

export class MongoJobStore implements JobStore {
  readonly name = 'mongodb';
  readonly dbName: string;
  private caps: StoreCapabilities = BEFORE_INIT;
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly hub = new EventHub();
  private readonly recent = new RecentKeys();
  private readonly ctx: MongoContext;
  private feed: ChangeFeed | null = null;
  private initialized = false;
  private closed = false;
  private lastRepair = 0;
  /** Batches of reaped jobs, recounted once quiet. */
  private readonly suspects = new Set<string>();

  constructor(private readonly opts: MongoStoreOptions) {
    const dbName = opts.dbName ?? dbNameFromUrl(opts.url);
    if (!dbName) {
      throw new SecretaryError('INVALID_PARAMETERS', 'the MongoDB URL names no database: use mongodb://host/<db> or set dbName');
    }
    this.dbName = dbName;
    this.client = new MongoClient(opts.url, { appName: 'secretary', ...opts.clientOptions });
    this.db = this.client.db(dbName);
    const limits = { ...DEFAULT_STORE_LIMITS, ...opts.limits };
    this.ctx = new MongoContext(this.client, openCollections(this.db, opts.collectionPrefix), limits, this.hub, this.recent, opts.onError);
  }

  get capabilities(): StoreCapabilities {
    return this.caps;
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /** Connects, detects the deployment (`hello`), creates indexes, repairs leftovers. Idempotent. */
  async init(): Promise<void> {
    if (this.initialized) return;
    await this.run(async () => {
      await this.client.connect();
      const hello = await this.db.command({ hello: 1 }).catch(() => this.db.command({ isMaster: 1 }));
      const replicated = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
      this.ctx.transactions = replicated && this.opts.transactions !== false;
      this.caps = Object.freeze({
        crossProcessEvents: replicated,
        skipLocked: false,
        transactions: this.ctx.transactions,
        multiProcess: true,
      });
      await ensureIndexes(this.ctx.c);
    });
    this.initialized = true;
    await this.repair();
    if (this.hub.size > 0) this.startFeed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed?.stop();
    this.feed = null;
    await this.client.close();
  }

  subscribe(listener: StoreListener): () => void {
    const off = this.hub.subscribe(listener);
    if (this.initialized) this.startFeed();
    return off;
  }

  private startFeed(): void {
    if (this.feed || this.closed || !this.caps.crossProcessEvents) return;
    const n = collectionNames(this.opts.collectionPrefix);
    this.feed = new ChangeFeed({
      db: this.db,
      names: { jobs: n.jobs, batches: n.batches, outbox: n.outbox },
      recent: this.recent,
      publish: (events) => this.hub.publishAll(events),
      onError: (err, context) => this.ctx.report(err, context),
    });
    this.feed.start();
  }

  // ------------------------------------------------------------------ create and read

  async createJob(input: NewJob): Promise<{ job: Job; created: boolean }> {
    checkExternalId(input.external_id);
    refuseDollarKeys(input);
    const job = buildJob(input, new Date().toISOString());
    return this.run(() => createJob(this.ctx, job));
  }

  async createJobs(inputs: NewJob[]): Promise<Job[]> {
    inputs.forEach((i) => {
      checkExternalId(i.external_id);
      refuseDollarKeys(i);
    });
    const now = new Date().toISOString();
    const jobs = inputs.map((i) => buildJob(i, now));
    if (jobs.length === 0) return [];
    return this.run(() => createJobs(this.ctx, jobs));
  }

  async createBatch(input: NewBatch): Promise<{ batch: Batch; jobs: Job[] }> {
    refuseDollarKeys(input);
    input.jobs.forEach((i) => {
      checkExternalId(i.external_id);
      refuseDollarKeys(i);
    });
    const now = new Date().toISOString();
    const batch = buildBatch(input, now);
    const jobs = input.jobs.map((i) => buildJob({ ...i, user_id: i.user_id ?? input.user_id ?? null }, now, batch.batch_id));
    return this.run(() => createBatch(this.ctx, batch, jobs));
  }

  async getJob(jobId: string): Promise<Job | null> {
    return this.run(async () => {
      const d = await this.ctx.c.jobs.findOne({ job_id: jobId });
      return d ? docToJob(d) : null;
    });
  }

  async getJobByExternalId(externalId: string): Promise<Job | null> {
    return this.run(async () => {
      const d = await this.ctx.c.jobs.findOne(externalIdMatch(externalId));
      return d ? docToJob(d) : null;
    });
  }

  async getJobVersion(jobId: string): Promise<number | null> {
    return this.run(async () => {
      const d = await this.ctx.c.jobs.findOne({ job_id: jobId }, { projection: { version: 1 } });
      return d ? (d.version ?? 1) : null;
    });
  }

  async listJobs(filter: JobFilter, page?: PageRequest): Promise<Page<Job>> {
    return this.run(() => reads.listJobs(this.ctx, filter, page));
  }

  async getBatch(batchId: string): Promise<Batch | null> {
    return this.run(async () => {
      const d = await this.ctx.c.batches.findOne({ batch_id: batchId });
      return d ? docToBatch(d) : null;
    });
  }

  async listBatches(filter: BatchFilter, page?: PageRequest): Promise<Page<Batch>> {
    return this.run(() => reads.listBatches(this.ctx, filter, page));
  }

  // ------------------------------------------------------------------ worker side

  async claim(req: ClaimRequest): Promise<ClaimedJob[]> {
    return this.run(() => claimJobs(this.ctx, req));
  }

  async extendLeases(owner: string, leases: Lease[], leaseMs: number): Promise<string[]> {
    return this.run(() => tx.extendLeases(this.ctx, owner, leases, leaseMs));
  }

  async updateProgress(lease: Lease, progress: JobProgress): Promise<boolean> {
    return this.run(() => tx.updateProgress(this.ctx, lease, progress));
  }

  async appendLog(lease: Lease, entry: LogEntry): Promise<boolean> {
    return this.run(() => tx.appendLog(this.ctx, lease, lease.job_id, entry));
  }

  async setLlmInfo(lease: Lease, info: LlmInfo): Promise<boolean> {
    return this.run(() => tx.setLlmInfo(this.ctx, lease, info));
  }

  async complete(lease: Lease, results: Record<string, unknown>, logs?: LogEntry[]): Promise<boolean> {
    return this.run(() => tx.complete(this.ctx, lease, results, logs));
  }

  async fail(lease: Lease, error: JobError, opts?: FailOptions, logs?: LogEntry[]): Promise<boolean> {
    return this.run(() => tx.fail(this.ctx, lease, error, opts?.retryAt, logs));
  }

  async release(lease: Lease, reason: string): Promise<boolean> {
    return this.run(() => tx.release(this.ctx, lease, reason));
  }

  // ------------------------------------------------------------------ control

  async cancelJob(jobId: string, reason?: string): Promise<CancelResult> {
    return this.run(() => tx.cancel(this.ctx, jobId, reason));
  }

  async retryJob(jobId: string): Promise<RetryResult> {
    return this.run(() => tx.retry(this.ctx, jobId));
  }

  async deleteJob(jobId: string): Promise<DeleteResult> {
    return this.run(() => tx.remove(this.ctx, jobId));
  }

  async addJobLog(jobId: string, entry: LogEntry): Promise<boolean> {
    return this.run(() => tx.appendLog(this.ctx, null, jobId, entry));
  }

  async reapExpiredLeases(): Promise<ReapResult> {
    const out = await this.run(() => reap(this.ctx));
    out.batches.forEach((b) => this.suspects.add(b));
    if (Date.now() - this.lastRepair >= (this.opts.repairIntervalMs ?? 30_000)) await this.repair();
    return { requeued: out.requeued, failed: out.failed };
  }

  /**
   * Runs every repair now (also run by `init()` and, at most every `repairIntervalMs`, by
   * `reapExpiredLeases`): outbox intents left by a crash, per-type slots, batch counters of
   * reaped jobs' batches and of quiet non-terminal batches. Never throws; failures go to `onError`.
   */
  async repair(): Promise<void> {
    this.lastRepair = Date.now();
    const grace = this.opts.repairGraceMs ?? 60_000;
    const quiet = this.opts.recountQuietMs ?? 10_000;
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        this.ctx.report(err, `mongo repair: ${name}`);
      }
    };
    await step('outbox intents', () => repairIntents(this.ctx, grace));
    await step('type slots', () => reconcileSlots(this.ctx, grace));
    await step('batch counters', async () => {
      const ids = new Set([...this.suspects, ...(await batchesToCheck(this.ctx, quiet))]);
      for (const id of ids) {
        if ((await recountBatch(this.ctx, id, quiet)) !== 'busy') this.suspects.delete(id);
      }
    });
  }

  /** Recomputes a batch's counters from its jobs (see repair.ts); `busy` when it is not quiet yet. */
  async recountBatch(batchId: string): Promise<RecountOutcome> {
    return this.run(() => recountBatch(this.ctx, batchId, this.opts.recountQuietMs ?? 10_000));
  }

  async purgeFinished(olderThan: string, limit = 1000): Promise<PurgeResult> {
    return this.run(() => reads.purgeFinished(this.ctx, olderThan, limit));
  }

  async batchUsage(batchId: string): Promise<BatchUsage> {
    return this.run(() => reads.batchUsage(this.ctx, batchId));
  }

  async stats(): Promise<StoreStats> {
    return this.run(() => reads.stats(this.ctx));
  }

  // ------------------------------------------------------------------ outbox

  async claimOutbox(req: OutboxClaimRequest): Promise<OutboxRecord[]> {
    return this.run(() => outbox.claimOutbox(this.ctx, req));
  }

  async finishOutbox(eventId: string, owner: string, finish: OutboxFinish): Promise<boolean> {
    return this.run(() => outbox.finishOutbox(this.ctx, eventId, owner, finish));
  }

  async redeliver(jobId: string): Promise<OutboxRecord | null> {
    return this.run(() => outbox.redeliver(this.ctx, jobId));
  }

  async listOutbox(jobId: string): Promise<OutboxRecord[]> {
    return this.run(() => outbox.listOutbox(this.ctx, jobId));
  }

  async getDeliveries(jobId: string): Promise<DeliveryAttempt[]> {
    return this.run(() => outbox.getDeliveries(this.ctx, jobId));
  }
}
