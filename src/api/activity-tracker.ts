/**
 * Queue depth and throughput over time, kept in memory by the API process for the dashboard
 * (`GET /api/stats`): a sample of `store.stats()` every `sampleMs` (pending, ready,
 * processing) and, per minute, the jobs that ended `completed`, `failed` or `cancelled`.
 *
 * Endings are counted from store events. On stores whose events do not cross processes
 * (`capabilities.crossProcessEvents` false, e.g. SQLite with a worker in another process),
 * each sample also compares the store's totals with the previous sample and adds the endings
 * the events did not show (deletions and retention purges can only make this undercount).
 * The history starts when the process starts; it is not persisted.
 */
import { coerceError } from '../core/errors.js';
import type { JobStatus } from '../core/job.js';
import type { JobStore, StoreStats } from '../store/job-store.js';

export interface QueueSample {
  /** ISO time of the sample. */
  t: string;
  /** Pending jobs, including those whose `run_at` is in the future. */
  pending: number;
  /** Pending jobs whose `run_at` has come. */
  ready: number;
  processing: number;
}

export interface ThroughputBucket {
  /** ISO start of the minute. */
  t: string;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface ActivityTrackerOptions {
  /** Queue sample interval. Default 15000 ms. */
  sampleMs?: number;
  /** History kept. Default 60 minutes. */
  keepMinutes?: number;
  onError?: (err: Error) => void;
}

type Ending = 'completed' | 'failed' | 'cancelled';
const ENDINGS: readonly Ending[] = ['completed', 'failed', 'cancelled'];
const MINUTE = 60_000;
/** Reads for the API join the queue history at most this often. */
const MIN_GAP_MS = 5000;

export const countByStatus = (stats: StoreStats): Record<JobStatus, number> => {
  const out: Record<JobStatus, number> = { pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const r of stats.by_status) out[r.status] += r.count;
  return out;
};

export class ActivityTracker {
  private readonly samples: QueueSample[] = [];
  /** Minute start (ms) → endings in that minute. */
  private readonly buckets = new Map<number, Record<Ending, number>>();
  /** Endings seen as events since the last sample (for the cross-process correction). */
  private sinceSample: Record<Ending, number> = { completed: 0, failed: 0, cancelled: 0 };
  private lastTotals: Record<Ending, number> | null = null;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<StoreStats | null> | null = null;
  private last: { at: number; stats: StoreStats } | null = null;
  private lastSampleAt = 0;
  private readonly sampleMs: number;
  private readonly keepMs: number;
  private readonly startedAt = Date.now();

  constructor(
    private readonly store: JobStore,
    private readonly opts: ActivityTrackerOptions = {},
  ) {
    this.sampleMs = Math.max(50, opts.sampleMs ?? 15_000);
    this.keepMs = Math.max(1, opts.keepMinutes ?? 60) * MINUTE;
  }

  get sampleIntervalMs(): number {
    return this.sampleMs;
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.store.subscribe((e) => {
      if (e.type !== 'job') return;
      const s = e.change.status;
      if (s === 'completed' || s === 'failed' || s === 'cancelled') this.count(s, Date.parse(e.change.updated_at) || Date.now());
    });
    this.timer = setInterval(() => void this.sample(), this.sampleMs);
    this.timer.unref();
    void this.sample();
  }

  /** Stops sampling; waits for a sample in flight so nothing touches the store afterwards. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.reading;
  }

  private count(kind: Ending, at: number, n = 1): void {
    const minute = Math.floor(at / MINUTE) * MINUTE;
    let b = this.buckets.get(minute);
    if (!b) {
      b = { completed: 0, failed: 0, cancelled: 0 };
      this.buckets.set(minute, b);
    }
    b[kind] += n;
    this.sinceSample[kind] += n;
  }

  /** Takes one sample now (the timer, tests); never throws. */
  sample(): Promise<void> {
    return this.read(true).then(() => undefined);
  }

  /**
   * Store stats, read now or by a read already in flight (concurrent callers share one
   * query), or no older than `maxAgeMs` (default 0: always read). A read joins the history
   * when the last sample is at least `MIN_GAP_MS` old, which sharpens the chart while
   * someone watches.
   */
  async current(maxAgeMs = 0): Promise<StoreStats> {
    if (this.last && Date.now() - this.last.at < maxAgeMs) return this.last.stats;
    const stats = await this.read(false);
    if (stats) return stats;
    return this.store.stats();
  }

  private read(force: boolean): Promise<StoreStats | null> {
    if (this.reading) return this.reading;
    const run = (async () => {
      try {
        const stats = await this.store.stats();
        const now = Date.now();
        this.last = { at: now, stats };
        this.record(stats, now, force || now - this.lastSampleAt >= MIN_GAP_MS);
        return stats;
      } catch (err) {
        this.opts.onError?.(coerceError(err));
        return null;
      } finally {
        this.reading = null;
      }
    })();
    this.reading = run;
    return run;
  }

  /** Takes in `stats` read at `now`: corrects the endings; adds a queue sample when `keep`. */
  private record(stats: StoreStats, now: number, keep: boolean): void {
    const by = countByStatus(stats);
    if (keep) {
      this.samples.push({ t: new Date(now).toISOString(), pending: by.pending, ready: stats.ready, processing: by.processing });
      this.lastSampleAt = now;
    }
    const totals = { completed: by.completed, failed: by.failed, cancelled: by.cancelled };
    if (this.lastTotals && !this.store.capabilities.crossProcessEvents) {
      for (const k of ENDINGS) {
        const unseen = totals[k] - this.lastTotals[k] - this.sinceSample[k];
        if (unseen > 0) this.count(k, now, unseen);
      }
    }
    this.lastTotals = totals;
    this.sinceSample = { completed: 0, failed: 0, cancelled: 0 };
    const cutoff = now - this.keepMs;
    while (this.samples.length > 0 && Date.parse(this.samples[0]!.t) < cutoff) this.samples.shift();
    for (const minute of this.buckets.keys()) if (minute < cutoff - MINUTE) this.buckets.delete(minute);
  }

  /** Queue samples and per-minute endings of the last `minutes` (oldest first; every minute present). */
  history(minutes: number, now = Date.now()): { since: string; tracking_since: string; queue: QueueSample[]; throughput: ThroughputBucket[] } {
    const span = Math.max(1, Math.min(this.keepMs / MINUTE, Math.floor(minutes)));
    const lastMinute = Math.floor(now / MINUTE) * MINUTE;
    const firstMinute = lastMinute - (span - 1) * MINUTE;
    const throughput: ThroughputBucket[] = [];
    for (let m = firstMinute; m <= lastMinute; m += MINUTE) {
      const b = this.buckets.get(m);
      throughput.push({ t: new Date(m).toISOString(), completed: b?.completed ?? 0, failed: b?.failed ?? 0, cancelled: b?.cancelled ?? 0 });
    }
    const queue = this.samples.filter((s) => Date.parse(s.t) >= firstMinute);
    return { since: new Date(firstMinute).toISOString(), tracking_since: new Date(this.startedAt).toISOString(), queue, throughput };
  }
}
