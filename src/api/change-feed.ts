/**
 * One feed of all job and batch changes of the store, shared by every `GET /api/events`
 * connection of an app: it subscribes to the store once (while anyone listens), drops job
 * changes already seen (by `version`), and on stores whose events do not cross processes
 * (`capabilities.crossProcessEvents` false) re-reads the active jobs and the newest jobs and
 * batches every few seconds, so a worker in another process is still seen.
 * It knows nothing of users: the route filters what each caller may read.
 */
import { coerceError } from '../core/errors.js';
import type { Batch, JobProgress, JobStatus } from '../core/job.js';
import type { JobStore, StoreEvent } from '../store/job-store.js';

export interface FeedJobChange {
  kind: 'job';
  job_id: string;
  job_type: string;
  status: JobStatus;
  progress: JobProgress | null;
  batch_id: string | null;
  user_id: string | null;
  version: number;
  updated_at: string;
}

export interface FeedBatchChange {
  kind: 'batch';
  batch_id: string;
  status: string;
}

export type FeedChange = FeedJobChange | FeedBatchChange;
export type FeedListener = (change: FeedChange) => void;

export interface ChangeFeedOptions {
  /** Re-read interval for stores without cross-process events. Default 3000 ms. */
  pollMs?: number;
  /** Job versions remembered for de-duplication. Default 20000. */
  maxTracked?: number;
  onError?: (err: Error, what: string) => void;
}

const ACTIVE: JobStatus[] = ['pending', 'processing'];
/** Active jobs re-read per poll; jobs that left this set are fetched one by one (at most this many). */
const POLL_ACTIVE_LIMIT = 200;
const POLL_NEWEST_LIMIT = 50;
const POLL_GONE_LIMIT = 50;

const batchKey = (b: Batch): string =>
  [b.status, b.pending_jobs, b.processing_jobs, b.completed_jobs, b.failed_jobs, b.cancelled_jobs, b.updated_at].join('|');

export class ChangeFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly versions = new Map<string, number>();
  private batches = new Map<string, string>();
  private active = new Set<string>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private seeded = false;
  private readonly pollMs: number;
  private readonly maxTracked: number;

  constructor(
    private readonly store: JobStore,
    private readonly opts: ChangeFeedOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 3000;
    this.maxTracked = opts.maxTracked ?? 20_000;
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener; the store subscription (and the fallback poll) runs while any exists. */
  listen(fn: FeedListener): () => void {
    this.listeners.add(fn);
    if (!this.unsubscribe) this.start();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    this.unsubscribe = this.store.subscribe((e) => this.onStoreEvent(e));
    if (!this.store.capabilities.crossProcessEvents) {
      this.seeded = false;
      this.timer = setInterval(() => void this.poll(), Math.max(50, this.pollMs));
      this.timer.unref();
      void this.poll();
    }
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private emit(change: FeedChange): void {
    for (const fn of this.listeners) {
      try {
        fn(change);
      } catch (err) {
        this.opts.onError?.(coerceError(err), 'feed listener');
      }
    }
  }

  /** True when this version of the job was not emitted yet (and remembers it). */
  private fresh(jobId: string, version: number): boolean {
    const seen = this.versions.get(jobId);
    if (seen !== undefined && seen >= version) return false;
    this.versions.delete(jobId);
    this.versions.set(jobId, version);
    if (this.versions.size > this.maxTracked) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
    }
    return true;
  }

  private onStoreEvent(e: StoreEvent): void {
    if (e.type === 'job') {
      const c = e.change;
      if (!this.fresh(c.job_id, c.version)) return;
      if (ACTIVE.includes(c.status)) this.active.add(c.job_id);
      else this.active.delete(c.job_id);
      this.emit({ kind: 'job', ...c });
    } else if (e.type === 'batch') {
      this.emit({ kind: 'batch', batch_id: e.batch_id, status: e.status });
    }
  }

  private emitJob(j: {
    job_id: string;
    job_type: string;
    status: JobStatus;
    progress: JobProgress | null;
    batch_id: string | null;
    user_id: string | null;
    version: number;
    updated_at: string;
  }, announce: boolean): void {
    if (!this.fresh(j.job_id, j.version) || !announce) return;
    const { job_id, job_type, status, progress, batch_id, user_id, version, updated_at } = j;
    this.emit({ kind: 'job', job_id, job_type, status, progress, batch_id, user_id, version, updated_at });
  }

  /** The fallback for stores without cross-process events; never throws. */
  private async poll(): Promise<void> {
    if (this.polling || !this.unsubscribe) return;
    this.polling = true;
    const announce = this.seeded;
    try {
      const [active, newest, batches] = await Promise.all([
        this.store.listJobs({ status: ACTIVE }, { limit: POLL_ACTIVE_LIMIT }),
        this.store.listJobs({}, { limit: POLL_NEWEST_LIMIT }),
        this.store.listBatches({}, { limit: POLL_NEWEST_LIMIT }),
      ]);
      const nowActive = new Set(active.items.map((j) => j.job_id));
      const gone = [...this.active].filter((id) => !nowActive.has(id)).slice(0, POLL_GONE_LIMIT);
      for (const j of [...active.items, ...newest.items]) this.emitJob(j, announce);
      for (const id of gone) {
        const j = await this.store.getJob(id);
        if (j) this.emitJob(j, announce);
      }
      this.active = nowActive;
      const seen = new Map<string, string>();
      for (const b of batches.items) {
        const key = batchKey(b);
        seen.set(b.batch_id, key);
        if (announce && this.batches.get(b.batch_id) !== key) this.emit({ kind: 'batch', batch_id: b.batch_id, status: b.status });
      }
      this.batches = seen;
      this.seeded = true;
    } catch (err) {
      this.opts.onError?.(coerceError(err), 'feed poll');
    } finally {
      this.polling = false;
    }
  }
}
