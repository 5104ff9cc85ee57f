/**
 * Cross-process events of the MongoDB store: one change stream on the database, filtered to
 * the store's collections, turned into `StoreEvent`s. Change streams need a replica set or a
 * sharded cluster (they read the oplog); on a standalone server the store publishes
 * in-process events only and other processes rely on polling (`crossProcessEvents: false`).
 *
 * The driver resumes a stream by itself after resumable errors (network, failover). When the
 * stream still fails, `ChangeFeed` reopens it after a back-off with `resumeAfter` set to the
 * last resume token, or from "now" if the token is no longer in the oplog; it never throws
 * into the process. Events this process published itself are dropped (`RecentKeys`), so a
 * local listener sees each change once.
 */
import type { ChangeStream, ChangeStreamDocument, Db, Document, ResumeToken } from 'mongodb';
import type { BatchStatus, JobProgress, JobStatus } from '../../core/job.js';
import type { StoreEvent } from '../job-store.js';
import { jobChange } from '../store-shared.js';
import { isoOf } from './documents.js';

/** Keys of events published locally, remembered for `ttlMs` so their echo from the stream is dropped. */
export class RecentKeys {
  private readonly keys = new Map<string, number>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(key: string): void {
    const t = this.now();
    this.keys.delete(key);
    this.keys.set(key, t + this.ttlMs);
    if (this.keys.size > this.max) {
      for (const [k, exp] of this.keys) {
        if (this.keys.size <= this.max && exp > t) break;
        this.keys.delete(k);
      }
    }
  }

  has(key: string): boolean {
    const exp = this.keys.get(key);
    if (exp === undefined) return false;
    if (exp <= this.now()) {
      this.keys.delete(key);
      return false;
    }
    return true;
  }
}

export interface FeedNames {
  jobs: string;
  batches: string;
  outbox: string;
}

/** Fields of `fullDocument` the events need (the rest is projected away on the server). */
const DOC_FIELDS = ['job_id', 'job_type', 'batch_id', 'user_id', 'status', 'progress', 'version', 'updated_at', 'event_id'];
/** Scalar fields read from the update itself (the looked-up document may already be newer). */
const UPDATED_FIELDS = ['status', 'version', 'updated_at'];

/** Server-side filter: inserts, job updates that bumped `version`, batch status changes. */
export const feedPipeline = (n: FeedNames): Document[] => [
  {
    $match: {
      $or: [
        { operationType: 'insert', 'ns.coll': { $in: [n.jobs, n.outbox] } },
        { operationType: 'update', 'ns.coll': n.jobs, 'updateDescription.updatedFields.version': { $exists: true } },
        { operationType: 'update', 'ns.coll': n.batches, 'updateDescription.updatedFields.status': { $exists: true } },
      ],
    },
  },
  {
    $project: {
      operationType: 1,
      ns: 1,
      ...Object.fromEntries(DOC_FIELDS.map((f) => [`fullDocument.${f}`, 1])),
      ...Object.fromEntries(UPDATED_FIELDS.map((f) => [`updateDescription.updatedFields.${f}`, 1])),
    },
  },
];

export interface FeedChange {
  operationType: string;
  ns?: { coll?: string };
  fullDocument?: Record<string, unknown> | null;
  updateDescription?: { updatedFields?: Record<string, unknown> | null } | null;
}

/** One change from the stream → the events to publish, with the key that detects a local echo. */
export const changeToEvents = (change: FeedChange, n: FeedNames): { key: string; events: StoreEvent[] } | null => {
  const d = change.fullDocument;
  const coll = change.ns?.coll;
  if (!d) return null;
  const upd = change.updateDescription?.updatedFields ?? {};
  const field = (name: string): unknown => (name in upd ? upd[name] : d[name]);
  if (coll === n.outbox) {
    return change.operationType === 'insert' ? { key: `o:${String(d.event_id)}`, events: [{ type: 'outbox' }] } : null;
  }
  if (coll === n.batches) {
    const status = field('status') as BatchStatus;
    const batchId = String(d.batch_id);
    return { key: `b:${batchId}:${status}`, events: [{ type: 'batch', batch_id: batchId, status }] };
  }
  if (coll !== n.jobs || typeof d.job_id !== 'string') return null;
  const version = field('version');
  const c = jobChange({
    job_id: d.job_id,
    job_type: String(d.job_type ?? ''),
    batch_id: (d.batch_id as string | null | undefined) ?? null,
    user_id: (d.user_id as string | null | undefined) ?? null,
    status: field('status') as JobStatus,
    progress: (d.progress as JobProgress | null | undefined) ?? null,
    version: typeof version === 'number' ? version : 0,
    updated_at: isoOf(field('updated_at')),
  });
  const events: StoreEvent[] = [{ type: 'job', change: c }];
  if (c.status === 'pending') events.push({ type: 'enqueued', job_types: [c.job_type] });
  return { key: `j:${c.job_id}:${c.version}`, events };
};

export interface ChangeFeedOptions {
  db: Db;
  names: FeedNames;
  recent: RecentKeys;
  publish: (events: StoreEvent[]) => void;
  onError?: (err: Error, context: string) => void;
  /** First back-off after a failed stream; doubles up to 30 s. Default 500 ms. */
  retryMs?: number;
}

/** Codes after which the resume token is useless: start again from now. */
const TOKEN_LOST = new Set([260 /* InvalidResumeToken */, 280 /* ChangeStreamFatalError */, 286 /* ChangeStreamHistoryLost */]);

export class ChangeFeed {
  private stream: ChangeStream | null = null;
  private token: ResumeToken | undefined;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private backoff: number;

  constructor(private readonly o: ChangeFeedOptions) {
    this.backoff = o.retryMs ?? 500;
  }

  start(): void {
    if (this.stopped || this.stream) return;
    try {
      const stream = this.o.db.watch(feedPipeline(this.o.names), {
        fullDocument: 'updateLookup',
        ...(this.token ? { resumeAfter: this.token } : {}),
      });
      this.stream = stream;
      stream.on('change', (c: ChangeStreamDocument) => this.onChange(c));
      stream.on('error', (err: Error) => this.onStreamError(stream, err));
    } catch (err) {
      this.onStreamError(null, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onChange(c: ChangeStreamDocument): void {
    try {
      this.token = c._id;
      this.backoff = this.o.retryMs ?? 500;
      const out = changeToEvents(c as FeedChange, this.o.names);
      if (!out || this.o.recent.has(out.key)) return;
      this.o.publish(out.events);
    } catch (err) {
      this.o.onError?.(err instanceof Error ? err : new Error(String(err)), 'mongo change stream: event');
    }
  }

  private onStreamError(stream: ChangeStream | null, err: Error): void {
    this.o.onError?.(err, 'mongo change stream');
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number' && TOKEN_LOST.has(code)) this.token = undefined;
    if (stream) {
      if (this.stream === stream) this.stream = null;
      stream.close().catch(() => undefined);
    }
    if (this.stopped || this.timer) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 30_000);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.start();
    }, wait);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.stream;
    this.stream = null;
    if (s) await s.close().catch(() => undefined);
  }
}
