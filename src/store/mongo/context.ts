/**
 * Shared machinery of the MongoDB store: units of work (a transaction on a replica set, a
 * plain sequence of writes otherwise), sequences, outbox records, batch counters, events.
 *
 * Writing a transition WITHOUT transactions (standalone server)
 * -------------------------------------------------------------
 * A job transition is one atomic single-document update. Its consequences follow as separate
 * writes, in this order:
 *   1. the job update, which also pushes an *outbox intent* (`outbox_intents[]`, the record
 *      to send) for terminal transitions — so the intent commits with the transition;
 *   2. the batch counters: `$inc` on the batch document (and a compare-and-set of the batch
 *      status derived from the counters, with the batch's own intent when it turns terminal);
 *   3. the outbox insert (event_id unique, so a repeat is a no-op), then `$pull` of the intent.
 * What a crash (process killed) between these writes can cause, and the repair:
 *   - after 1, before 3: the callback is not lost — the intent is on the job. The reaper's
 *     repair (`repair.ts`) inserts every intent older than a grace period and pulls it.
 *   - after 1, before 2: the batch counters miss one move (the job is right, the batch is off
 *     by one and may stay non-terminal). `recountBatch` recomputes the counters from the jobs
 *     with an aggregation and writes them with a compare-and-set on the batch's `rev`; the
 *     reaper runs it for batches of reaped jobs and for quiet non-terminal batches.
 *   - progress callbacks carry no intent: a crash may drop one (a later progress or the
 *     terminal callback supersedes it).
 * On a replica set or sharded cluster (`hello` reports `setName` or `msg: 'isdbgrid'`) the same
 * steps run inside `session.withTransaction`, intents are not used, and nothing needs repair.
 */
import {
  MongoError,
  MongoServerError,
  type ClientSession,
  type Filter,
  type MongoClient,
  type UpdateFilter,
} from 'mongodb';
import { deriveBatchStatus, type BatchStatus, type JobStatus } from '../../core/job.js';
import { newEventId } from '../../core/ids.js';
import { SecretaryError } from '../../core/errors.js';
import type { EventHub } from '../event-hub.js';
import type { OutboxKind, OutboxRecord, StoreEvent, StoreLimits } from '../job-store.js';
import { isBatchTerminal, jobChange } from '../store-shared.js';
import { batchTarget, isoOf, jobTarget, type BatchDoc, type JobDoc, type OutboxDoc, type OutboxIntent } from './documents.js';
import type { MongoCollections } from './indexes.js';
import { counterMove } from './queries.js';
import type { RecentKeys } from './change-events.js';

export interface MongoUnit {
  /** Set inside a transaction; every operation of the unit passes it. */
  readonly session: ClientSession | undefined;
  /** Events of this unit, published after it committed. */
  readonly events: StoreEvent[];
}

export type OutboxTarget = { job_id: string; batch_id?: undefined } | { batch_id: string; job_id?: undefined };

export const isDuplicateKey = (err: unknown): err is MongoServerError =>
  err instanceof MongoServerError && err.code === 11000;

/** The index a duplicate-key error names (`keyPattern` when the server sends it, else the message). */
export const duplicateKeyField = (err: MongoServerError): string | null => {
  const pattern = err.keyPattern as Record<string, unknown> | undefined;
  const first = pattern ? Object.keys(pattern)[0] : undefined;
  if (first) return first;
  const m = /index: (\S+)/.exec(err.message);
  return m?.[1] ?? null;
};

/** The one error mapper of this backend: driver failures become `STORE_ERROR`. */
export const toStoreError = (err: unknown): Error => {
  if (err instanceof SecretaryError) return err;
  if (err instanceof MongoError) {
    return new SecretaryError('STORE_ERROR', `MongoDB: ${err.message}`, {
      name: err.name,
      code: typeof err.code === 'number' || typeof err.code === 'string' ? err.code : null,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
};

export const jobChangeOf = (d: JobDoc) =>
  jobChange({
    job_id: d.job_id,
    job_type: d.job_type,
    batch_id: d.batch_id ?? null,
    user_id: d.user_id ?? null,
    status: d.status,
    progress: d.progress ?? null,
    version: d.version,
    updated_at: isoOf(d.updated_at),
  });

export class MongoContext {
  /** Set by `init()` from `hello`: replica set or mongos. */
  transactions = false;

  constructor(
    readonly client: MongoClient,
    readonly c: MongoCollections,
    readonly limits: StoreLimits,
    private readonly hub: EventHub,
    private readonly recent: RecentKeys,
    private readonly onError?: (err: Error, context: string) => void,
  ) {}

  /** Reports a failure of a best-effort step (repaired later); never throws. */
  report(err: unknown, context: string): void {
    try {
      this.onError?.(err instanceof Error ? err : new Error(String(err)), context);
    } catch {
      // the reporter's failure is its own
    }
  }

  /** `{session}` for operations inside a unit. */
  opts(u: MongoUnit): { session?: ClientSession } {
    return u.session ? { session: u.session } : {};
  }

  /**
   * Runs `fn` as one unit: inside `withTransaction` when the deployment has transactions (the
   * driver may call `fn` again on a transient error, so `fn` collects events afresh each time),
   * else as a plain sequence of writes. Events are published after commit.
   */
  async unit<T>(fn: (u: MongoUnit) => Promise<T>): Promise<T> {
    if (!this.transactions) {
      const u: MongoUnit = { session: undefined, events: [] };
      try {
        return await fn(u);
      } finally {
        // Without transactions every completed write is durable: publish what happened.
        this.publish(u.events);
      }
    }
    const session = this.client.startSession();
    try {
      let events: StoreEvent[] = [];
      const result = await session.withTransaction(async (s) => {
        events = [];
        return fn({ session: s, events });
      });
      this.publish(events);
      return result;
    } finally {
      await session.endSession();
    }
  }

  publish(events: StoreEvent[]): void {
    for (const e of events) {
      if (e.type === 'job') this.recent.add(`j:${e.change.job_id}:${e.change.version}`);
      if (e.type === 'batch') this.recent.add(`b:${e.batch_id}:${e.status}`);
    }
    this.hub.publishAll(events);
  }

  /** Reserves `n` consecutive numbers of a sequence; returns the first. Outside any transaction. */
  async nextSeq(name: 'jobs' | 'batches' | 'outbox', n = 1): Promise<number> {
    const doc = await this.c.counters.findOneAndUpdate(
      { _id: name },
      { $inc: { seq: n } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!doc) throw new SecretaryError('STORE_ERROR', `sequence ${name} not available`);
    return doc.seq - n + 1;
  }

  /**
   * Queues the job event (and `enqueued` for a pending job). The echo key is remembered now,
   * before commit, so the change stream's copy of this change is always recognised.
   */
  emitJob(u: MongoUnit, d: JobDoc, enqueued = true): void {
    const change = jobChangeOf(d);
    this.recent.add(`j:${change.job_id}:${change.version}`);
    u.events.push({ type: 'job', change });
    if (enqueued && d.status === 'pending') u.events.push({ type: 'enqueued', job_types: [d.job_type] });
  }

  emitBatch(u: MongoUnit, batchId: string, status: BatchStatus): void {
    this.recent.add(`b:${batchId}:${status}`);
    u.events.push({ type: 'batch', batch_id: batchId, status });
  }

  private emitOutbox(u: MongoUnit): void {
    if (!u.events.some((e) => e.type === 'outbox')) u.events.push({ type: 'outbox' });
  }

  intent(kind: OutboxKind, snapshot: OutboxRecord['snapshot'], now: Date): OutboxIntent {
    return { event_id: newEventId(), kind, snapshot, created_at: now };
  }

  /** Inserts an outbox record (a new `seq`); a repeated `event_id` is ignored (repair replays). */
  async insertOutbox(u: MongoUnit, target: OutboxTarget, i: OutboxIntent): Promise<OutboxDoc | null> {
    const seq = await this.nextSeq('outbox');
    const doc: OutboxDoc = {
      event_id: i.event_id,
      seq,
      target: target.job_id !== undefined ? jobTarget(target.job_id) : batchTarget(target.batch_id),
      job_id: target.job_id ?? null,
      batch_id: target.batch_id ?? null,
      kind: i.kind,
      snapshot: i.snapshot,
      status: 'pending',
      attempts: 0,
      next_attempt_at: i.created_at,
      created_at: i.created_at,
      lease_owner: null,
      lease_expires_at: null,
    };
    try {
      await this.c.outbox.insertOne(doc, this.opts(u));
    } catch (err) {
      if (isDuplicateKey(err) && !u.session) return null;
      throw err;
    }
    this.recent.add(`o:${doc.event_id}`);
    this.emitOutbox(u);
    return doc;
  }

  /** Adds the intent to a transition's update when there are no transactions (see the header). */
  withIntent<D extends JobDoc | BatchDoc>(u: MongoUnit, update: UpdateFilter<D>, i: OutboxIntent | null): UpdateFilter<D> {
    if (!i || u.session) return update;
    return { ...update, $push: { ...(update.$push ?? {}), outbox_intents: i } } as unknown as UpdateFilter<D>;
  }

  /** Step 3 of a transition: the outbox record (when the target has a webhook), then the intent is dropped. */
  async recordOutbox(u: MongoUnit, target: OutboxTarget, i: OutboxIntent | null, hasWebhook: boolean): Promise<void> {
    if (!i) return;
    if (hasWebhook) await this.insertOutbox(u, target, i);
    if (u.session) return;
    const pull = { $pull: { outbox_intents: { event_id: i.event_id } } };
    if (target.job_id !== undefined) {
      await this.c.jobs.updateOne({ job_id: target.job_id }, pull as UpdateFilter<JobDoc>);
    } else {
      await this.c.batches.updateOne({ batch_id: target.batch_id }, pull as UpdateFilter<BatchDoc>);
    }
  }

  /**
   * Moves `n` jobs of a batch from one counter to another (null: created / deleted job) and
   * re-derives the batch status.
   */
  async moveBatch(u: MongoUnit, batchId: string, from: JobStatus | null, to: JobStatus | null, now: Date, n = 1): Promise<void> {
    if (from === to) return;
    const doc = await this.c.batches.findOneAndUpdate(
      { batch_id: batchId },
      { $inc: counterMove(from, to, n), $set: { updated_at: now } },
      { ...this.opts(u), returnDocument: 'after' },
    );
    if (doc) await this.settleBatch(u, doc, now);
  }

  /**
   * Writes the status derived from the counters with a compare-and-set on `{status, rev}`, so
   * concurrent movers agree and exactly one of them sees the batch enter a terminal state
   * (that one writes the `batch` outbox record).
   */
  async settleBatch(u: MongoUnit, start: BatchDoc, now: Date): Promise<void> {
    let doc: BatchDoc | null = start;
    for (let round = 0; doc && round < 10; round += 1) {
      const status = deriveBatchStatus(doc);
      if (status === doc.status) return;
      const terminal = isBatchTerminal(status);
      const entering = terminal && !isBatchTerminal(doc.status);
      const i = entering && doc.webhook ? this.intent('batch', { status }, now) : null;
      const update = this.withIntent<BatchDoc>(u, { $set: { status, completed_at: terminal ? now : null, updated_at: now } }, i);
      const cas = { batch_id: doc.batch_id, status: doc.status, rev: doc.rev ?? null } as Filter<BatchDoc>;
      const res = await this.c.batches.updateOne(cas, update, this.opts(u));
      if (res.modifiedCount === 1) {
        this.emitBatch(u, doc.batch_id, status);
        await this.recordOutbox(u, { batch_id: doc.batch_id }, i, true);
        return;
      }
      doc = await this.c.batches.findOne({ batch_id: doc.batch_id }, this.opts(u));
    }
  }
}
