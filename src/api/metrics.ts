/**
 * Prometheus metrics (own `prom-client` Registry, so several apps in one process never clash):
 * jobs by status and type and the queue depth read from `store.stats()` at scrape time; job
 * durations and claim latency fed by the worker's events (`workerEvents`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobStore } from '../store/job-store.js';
import type { ModelCallEvent, ModelGateway } from '../processors/llm/index.js';
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
  private readonly llmRequests: Counter;
  private readonly llmTokens: Counter;
  private readonly llmCost: Counter;
  private readonly llmUnpriced: Counter;
  private readonly llmDuration: Histogram;
  private readonly llmInFlight: Gauge;
  private models: ModelGateway | null = null;

  constructor() {
    const registers = [this.registry];
    this.jobs = new Gauge({
      name: 'secretary_jobs',
      help: 'Jobs in the store by status and job_type (read at scrape time).',
      labelNames: ['status', 'job_type'],
      registers,
    });
    this.ready = new Gauge({
      name: 'secretary_queue_depth',
      help: 'Pending jobs whose run_at has come.',
      registers,
    });
    this.outbox = new Gauge({
      name: 'secretary_webhook_outbox_pending',
      help: 'Webhook callbacks waiting to be sent.',
      registers,
    });
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
    this.claimed = new Counter({
      name: 'secretary_jobs_claimed_total',
      help: 'Jobs claimed by this process.',
      registers,
    });
    this.running = new Gauge({
      name: 'secretary_jobs_running',
      help: 'Jobs running in this process.',
      registers,
    });
    this.llmRequests = new Counter({
      name: 'secretary_llm_requests_total',
      help: 'Model provider calls by provider, model, use case and outcome (ok, cache_hit, error).',
      labelNames: ['provider', 'model', 'use_case', 'outcome'],
      registers,
    });
    this.llmTokens = new Counter({
      name: 'secretary_llm_tokens_total',
      help: 'Tokens sent (prompt) and received (completion), by provider and model.',
      labelNames: ['provider', 'model', 'direction'],
      registers,
    });
    this.llmCost = new Counter({
      name: 'secretary_llm_cost_usd_total',
      help: 'USD spent on priced calls (from the price table in llm.providers.*.models).',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.llmUnpriced = new Counter({
      name: 'secretary_llm_unpriced_requests_total',
      help: 'Calls whose model has no price in the table (their cost is unknown, not counted above).',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.llmDuration = new Histogram({
      name: 'secretary_llm_request_duration_seconds',
      help: 'Time of one model call incl. retries and the wait for a provider slot.',
      labelNames: ['provider', 'use_case'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
      registers,
    });
    this.llmInFlight = new Gauge({
      name: 'secretary_llm_in_flight',
      help: 'Model calls in flight (state in_flight) and waiting for a slot (state queued), per provider.',
      labelNames: ['provider', 'state'],
      registers,
    });
    this.onModelCall = (e) => {
      this.llmRequests.inc({
        provider: e.provider,
        model: e.model,
        use_case: e.useCase,
        outcome: e.outcome,
      });
      if (e.outcome === 'cache_hit') return;
      this.llmDuration.observe({ provider: e.provider, use_case: e.useCase }, e.durationMs / 1000);
      if (e.outcome === 'error') return;
      if (e.promptTokens)
        this.llmTokens.inc(
          { provider: e.provider, model: e.model, direction: 'prompt' },
          e.promptTokens,
        );
      if (e.completionTokens)
        this.llmTokens.inc(
          { provider: e.provider, model: e.model, direction: 'completion' },
          e.completionTokens,
        );
      if (e.cost === null) this.llmUnpriced.inc({ provider: e.provider, model: e.model });
      else if (e.cost > 0) this.llmCost.inc({ provider: e.provider, model: e.model }, e.cost);
    };
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

  /** Pass to `createRuntime({onModelCall})`: counts model calls, tokens and cost. */
  readonly onModelCall: (e: ModelCallEvent) => void;

  /** The gateway whose provider queues are read at scrape time. */
  attachModels(models: ModelGateway): void {
    this.models = models;
  }

  /** The store read at scrape time. */
  attachStore(store: JobStore): void {
    this.store = store;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    if (this.store) {
      const s = await this.store.stats();
      this.jobs.reset();
      for (const r of s.by_status)
        this.jobs.set({ status: r.status, job_type: r.job_type }, r.count);
      this.ready.set(s.ready);
      this.outbox.set(s.outbox_pending);
    }
    if (this.models) {
      this.llmInFlight.reset();
      for (const l of this.models.load()) {
        this.llmInFlight.set({ provider: l.provider, state: 'in_flight' }, l.in_flight);
        this.llmInFlight.set({ provider: l.provider, state: 'queued' }, l.queued);
      }
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
