/**
 * Shared state of the PostgreSQL store's modules: the pool, the statements, the limits and the
 * in-process event hub. Every query goes through `rows`/`tx`, which map driver errors.
 */
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import type { JobStatus } from '../../core/job.js';
import type { EventHub } from '../event-hub.js';
import type { StoreEvent, StoreLimits } from '../job-store.js';
import { mapPgError } from './pg-errors.js';
import type { PgNames } from './pg-names.js';
import { rowToChange, type ChangeRow } from './rows.js';
import type { BatchChanges } from './sql/batch.js';
import type { BuiltQuery } from './sql/lists.js';
import { NOTIFY_SQL, Notifier, joinPayloads } from './notifier.js';
import { STORE_TYPES } from './pg-types.js';
import { buildStatements, type Statement, type Statements } from './statements.js';

export interface PgContextOptions {
  url: string;
  poolSize: number;
  names: PgNames;
  limits: StoreLimits;
  hub: EventHub;
  preparedStatements: boolean;
  onNotifyError?: (err: Error) => void;
}

/** A job change as returned by a transition statement. */
export type ChangedRow = ChangeRow & { outboxed?: boolean };

type Runner = Pick<PoolClient, 'query'>;

export class PgContext {
  readonly pool: pg.Pool;
  readonly names: PgNames;
  readonly limits: StoreLimits;
  readonly sql: Statements;
  private readonly hub: EventHub;
  private readonly prepared: boolean;
  private readonly notifier: Notifier;

  constructor(opts: PgContextOptions) {
    this.names = opts.names;
    this.limits = opts.limits;
    this.hub = opts.hub;
    this.prepared = opts.preparedStatements;
    this.sql = buildStatements(opts.names);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      application_name: 'secretary',
      types: STORE_TYPES,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      // Fail (STORE_ERROR) instead of hanging when the server is unreachable or the pool stays full.
      connectionTimeoutMillis: 30_000,
    });
    // An idle connection that breaks (server restart) must not crash the process; the pool
    // drops it and the next query opens a new one.
    this.pool.on('error', () => undefined);
    const notify: Statement = { name: 'secretary_notify', text: NOTIFY_SQL };
    this.notifier = new Notifier({
      origin: opts.names.origin,
      send: async (payloads) => {
        await this.rows(notify, [opts.names.channel, joinPayloads(payloads)]);
      },
      onError: opts.onNotifyError,
    });
  }

  /** Runs a fixed statement (prepared, when enabled) or a built query; returns its rows. */
  async rows<R extends QueryResultRow>(
    q: Statement | BuiltQuery,
    values: unknown[],
    on: Runner = this.pool,
  ): Promise<R[]> {
    try {
      const config =
        'name' in q && this.prepared
          ? { name: q.name, text: q.text, values }
          : { text: q.text, values };
      return (await on.query<R>(config)).rows;
    } catch (err) {
      throw mapPgError(err);
    }
  }

  /** Runs `fn` in a transaction on one pooled connection. `begin` may carry extra statements. */
  async tx<T>(fn: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw mapPgError(err);
    }
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      let broken = false;
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      // A connection that cannot even roll back is closed instead of returned to the pool.
      client.release(broken ? true : undefined);
      throw mapPgError(err);
    }
  }

  /** Publishes committed changes: in-process at once, to other processes by NOTIFY. */
  publish(events: StoreEvent[]): void {
    if (events.length === 0) return;
    this.hub.publishAll(events);
    this.notifier.push(events);
  }

  /** Publishes events that came from another process (in-process only). */
  publishRemote(events: StoreEvent[]): void {
    if (events.length) this.hub.publishAll(events);
  }

  /**
   * Publishes in-process what a committed statement changed: a `job` event per row, `enqueued`
   * for rows now `pending`, `batch` per batch status change, `outbox` when records were written.
   */
  publishChanges(
    rows: ChangedRow[],
    batchChanges?: BatchChanges | null,
    outboxWritten = false,
  ): void {
    const events: StoreEvent[] = [];
    const enqueued = new Set<string>();
    let outbox = outboxWritten;
    for (const r of rows) {
      events.push({ type: 'job', change: rowToChange(r) });
      if (r.status === 'pending') enqueued.add(r.job_type);
      if (r.outboxed) outbox = true;
    }
    if (enqueued.size) events.push({ type: 'enqueued', job_types: [...enqueued] });
    for (const [batchId, status, outboxed] of batchChanges ?? []) {
      events.push({ type: 'batch', batch_id: batchId, status: status as JobStatus });
      if (outboxed) outbox = true;
    }
    if (outbox) events.push({ type: 'outbox' });
    this.publish(events);
  }

  async end(): Promise<void> {
    await this.notifier.drain();
    await this.pool.end();
  }
}
