/**
 * Prometheus metrics (own `prom-client` Registry, so several apps in one process never clash):
 * jobs by status and type and the queue depth read from `store.stats()` at scrape time; job
 * durations and claim latency fed by the worker's events (`workerEvents`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobStore } from '../store/job-store.js';
import type { WorkerEvents } from '../worker/worker-manager.js';

export class ApiMetrics {
  readonly registry = new Registry();
  private store: JobStore | null = null;
  private readonly jobs: Gauge;
  private readonly ready: Gauge;
  private readonly outbox: Gauge;
  private readonly duration: Histogram;
  private readonly claimLatency: Histogram;
  private readonly claimed: Counter;
  private readonly running: Gauge;

  constructor() {
    const registers = [this.registry];
    this.jobs = new Gauge({
      name: 'secretary_jobs',
      help: 'Jobs in the store by status and job_type (read at scrape time).',
      labelNames: ['status', 'job_type'],
      registers,
    });
    this.ready = new Gauge({ name: 'secretary_queue_depth', help: 'Pending jobs whose run_at has come.', registers });
    this.outbox = new Gauge({ name: 'secretary_webhook_outbox_pending', help: 'Webhook callbacks waiting to be sent.', registers });
    this.duration = new Histogram({
      name: 'secretary_job_duration_seconds',
      help: 'Handler run time per attempt, by job_type and outcome.',
      labelNames: ['job_type', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.claimLatency = new Histogram({
      name: 'secretary_claim_latency_seconds',
      help: 'Time of one claim call against the store.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.claimed = new Counter({ name: 'secretary_jobs_claimed_total', help: 'Jobs claimed by this process.', registers });
    this.running = new Gauge({ name: 'secretary_jobs_running', help: 'Jobs running in this process.', registers });
    this.workerEvents = {
      onClaim: (count, ms) => {
        this.claimLatency.observe(ms / 1000);
        if (count > 0) this.claimed.inc(count);
      },
      onJobStart: () => this.running.inc(),
      onJobEnd: (job, outcome, ms) => {
        this.running.dec();
        this.duration.observe({ job_type: job.job_type, outcome }, ms / 1000);
      },
    };
  }

  private processMetrics = false;

  /** Adds the Node.js process metrics (event-loop lag, heap, CPU, handles); once per process. */
  enableProcessMetrics(): this {
    if (!this.processMetrics) {
      this.processMetrics = true;
      collectDefaultMetrics({ register: this.registry });
    }
    return this;
  }

  /** Pass to `WorkerManager` (via `createRuntime({workerEvents})`). */
  readonly workerEvents: WorkerEvents;

  /** The store read at scrape time. */
  attachStore(store: JobStore): void {
    this.store = store;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    if (this.store) {
      const s = await this.store.stats();
      this.jobs.reset();
      for (const r of s.by_status) this.jobs.set({ status: r.status, job_type: r.job_type }, r.count);
      this.ready.set(s.ready);
      this.outbox.set(s.outbox_pending);
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
