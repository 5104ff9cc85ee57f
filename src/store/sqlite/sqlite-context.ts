/**
 * Shared state of the SQLite store's modules: the connection, a prepared-statement cache,
 * the limits, and the events collected during a transaction (published after commit).
 */
import type Database from 'better-sqlite3';
import type { JobStatus } from '../../core/job.js';
import { deriveBatchStatus } from '../../core/job.js';
import { newEventId } from '../../core/ids.js';
import type { OutboxKind, StoreEvent, StoreLimits } from '../job-store.js';
import { counterOf, isBatchTerminal } from '../store-shared.js';
import type { EventHub } from '../event-hub.js';
import type { BatchRow } from './rows.js';

/** What this store instance knows about a lease it handed out (saves a read on every write). */
export interface HeldLease {
  token: string;
  seq: number;
  job_type: string;
  batch_id: string | null;
  user_id: string | null;
  webhook: boolean;
  version: number;
}

export class SqliteContext {
  /** Leases claimed through this instance, by job id; dropped when the lease ends. */
  readonly held = new Map<string, HeldLease>();
  private queue: {
    fn: () => unknown;
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private flushScheduled = false;
  private readonly cache = new Map<string, Database.Statement>();
  /** Events of the running transaction; published by `commit`. */
  pending: StoreEvent[] = [];

  constructor(
    readonly db: Database.Database,
    readonly limits: StoreLimits,
    readonly hub: EventHub,
  ) {}

  private readonly rawCache = new Map<string, Database.Statement>();

  /** A cached statement returning rows as arrays (much cheaper for wide rows). */
  rawStmt(sql: string): Database.Statement {
    let s = this.rawCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql).raw(true);
      this.rawCache.set(sql, s);
    }
    return s;
  }

  stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` in `BEGIN IMMEDIATE` (one writer at a time, across processes), then publishes. */
  write<T>(fn: () => T): T {
    this.pending = [];
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      this.pending = [];
      throw err;
    }
    const events = this.pending;
    this.pending = [];
    if (events.length) this.hub.publishAll(events);
    return result;
  }

  /**
   * Group commit: writes issued in the same tick run in ONE `BEGIN IMMEDIATE` transaction.
   * One commit for many jobs is what makes the embedded store fast. Every write stays atomic
   * on its own: if any write of the group throws, the whole group is rolled back and each
   * write is re-run in its own transaction, so one bad write never takes others with it.
   */
  enqueue<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // two hops: writes that follow from this tick's writes (the worker claiming into the
        // slots its completions just freed) join the same transaction
        setImmediate(() => setImmediate(() => this.flush()));
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const ops = this.queue;
    this.queue = [];
    if (ops.length === 0) return;
    if (ops.length === 1) return this.runAlone(ops[0]!);
    const values: unknown[] = [];
    this.pending = [];
    try {
      this.stmt('BEGIN IMMEDIATE').run();
      for (const op of ops) values.push(op.fn());
      this.stmt('COMMIT').run();
    } catch {
      if (this.db.inTransaction) this.stmt('ROLLBACK').run();
      this.pending = [];
      for (const op of ops) this.runAlone(op);
      return;
    }
    const events = this.pending;
    this.pending = [];
    if (events.length) this.hub.publishAll(events);
    ops.forEach((op, i) => op.resolve(values[i]));
  }

  private runAlone(op: {
    fn: () => unknown;
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
  }): void {
    let value: unknown;
    try {
      value = this.write(op.fn);
    } catch (err) {
      op.reject(err);
      return;
    }
    op.resolve(value);
  }

  emit(event: StoreEvent): void {
    this.pending.push(event);
  }

  insertOutbox(
    kind: OutboxKind,
    target: { job_id?: string; batch_id?: string },
    snapshot: unknown,
    now: number,
  ): string {
    const eventId = newEventId();
    this.stmt(
      `INSERT INTO outbox (event_id, target, job_id, batch_id, kind, snapshot, status, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    ).run(
      eventId,
      target.job_id ?? `batch:${target.batch_id}`,
      target.job_id ?? null,
      target.batch_id ?? null,
      kind,
      snapshot === null || snapshot === undefined ? null : JSON.stringify(snapshot),
      now,
      now,
    );
    if (!this.pending.some((e) => e.type === 'outbox')) this.emit({ type: 'outbox' });
    return eventId;
  }

  /**
   * Moves `count` jobs of a batch from one status counter to another (either may be null:
   * a created or deleted job), re-derives the batch status, and writes the batch's outbox
   * record when it enters a terminal state.
   */
  moveBatch(
    batchId: string,
    from: JobStatus | null,
    to: JobStatus | null,
    now: number,
    count = 1,
  ): void {
    const sets: string[] = [];
    if (from) sets.push(`${counterOf(from)} = ${counterOf(from)} - @n`);
    if (to) sets.push(`${counterOf(to)} = ${counterOf(to)} + @n`);
    if (!from) sets.push('total_jobs = total_jobs + @n');
    if (!to) sets.push('total_jobs = total_jobs - @n');
    const row = this.stmt(
      `UPDATE batches SET ${sets.join(', ')}, updated_at = @now WHERE batch_id = @id RETURNING *`,
    ).get({ n: count, now, id: batchId }) as BatchRow | undefined;
    if (!row) return;
    this.settleBatch(row, now);
  }

  settleBatch(row: BatchRow, now: number): void {
    const status = deriveBatchStatus(row);
    if (status === row.status) return;
    const terminal = isBatchTerminal(status);
    this.stmt(
      `UPDATE batches SET status = ?, completed_at = ?, updated_at = ? WHERE batch_id = ?`,
    ).run(status, terminal ? now : null, now, row.batch_id);
    this.emit({ type: 'batch', batch_id: row.batch_id, status });
    if (terminal && !isBatchTerminal(row.status as JobStatus & typeof status) && row.webhook) {
      this.insertOutbox('batch', { batch_id: row.batch_id }, { status }, now);
    }
  }
}
