/**
 * The webhook delivery loop. Runs beside the worker; woken by the store's `outbox` events
 * (and a fallback timer), it claims outbox records (`store.claimOutbox`: per target only the
 * oldest unfinished record, so one job's callbacks go out one at a time and in order), builds
 * each body from the job's STORED state and POSTs it. See docs/webhooks.md for the policy.
 *
 * - Concurrency: at most `concurrency` requests in the fast lane; a request that has waited
 *   longer than `slowAfterMs` moves to a slow lane (bounded by `maxInFlight`) so a slow or
 *   black-holed receiver never holds a slot that other jobs' callbacks need.
 * - A record is never held while another target's receiver is slow: each record is its own task.
 * - Crash safety: a record that was `sending` when the process died is reclaimed after its lease
 *   (`leaseMs`, longer than the request timeout). Whether it was sent is unknown; under
 *   `at_most_once` it is NOT resent (finished `failed`, visible in `webhook_deliveries`, use
 *   redeliver); under `at_least_once` it is resent with the same event id.
 * - The loop never throws: every error is caught, logged with context and backed off.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { isTerminal, type Job, type WebhookConfig } from '../core/job.js';
import { SecretaryError, coerceError } from '../core/errors.js';
import type { DeliveryAttempt, JobStore, OutboxFinish, OutboxRecord } from '../store/job-store.js';
import type { HandlerRegistry } from '../worker/registry.js';
import type { WorkerLogger } from '../worker/worker-manager.js';
import { checkUrl, safeUrlText, type GuardOptions } from '../net/url-guard.js';
import { batchBody, callbackBody, type PayloadContext } from './payloads.js';
import { buildHeaders, decide, type RetryPolicy } from './delivery-policy.js';
import { postJson, type PostResult } from './http-post.js';

export interface DispatcherOptions {
  /** Requests in the fast lane at once (config `webhooks.concurrency`). Default 16. */
  concurrency?: number;
  /** Per-callback timeout in ms (config `webhooks.timeout_sec`). Default 600 000. */
  timeoutMs?: number;
  /** Retries after the first attempt (config `webhooks.max_retries`). Default 8. */
  maxRetries?: number;
  /** Backoff base / cap for retries. Defaults 1 000 / 300 000 ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest `Retry-After` honoured. Default 3 600 000 ms. */
  maxRetryAfterMs?: number;
  /** HMAC secret for `X-Secretary-Signature` (config `webhooks.signing_secret`). Default none. */
  signingSecret?: string | null;
  /** SSRF guard (config `security.*`). */
  guard: GuardOptions;
  /** Config `server.public_base_url`. Default null (relative URLs). */
  publicBaseUrl?: string | null;
  /** Fallback poll when no event arrives. Default 1 000 ms. */
  pollIntervalMs?: number;
  /** Lease on a `sending` record. Default `timeoutMs + 60 000`. */
  leaseMs?: number;
  /** A request older than this leaves the fast lane. Default 10 000 ms. */
  slowAfterMs?: number;
  /** Hard cap of requests in flight (both lanes). Default `concurrency * 8`. */
  maxInFlight?: number;
  /** Owner id written on claimed records. Default `<host>:<pid>:<random>:webhooks`. */
  owner?: string;
}

interface InFlight {
  startedAt: number;
  slow: boolean;
  task: Promise<void>;
}

const TERMINAL_OF: Record<string, string> = { completed: 'completed', failed: 'failed', cancelled: 'cancelled' };

export class WebhookDispatcher {
  readonly owner: string;
  private readonly o: Required<Omit<DispatcherOptions, 'signingSecret' | 'publicBaseUrl' | 'owner'>> & {
    signingSecret: string | null;
  };
  private readonly policy: RetryPolicy;
  private readonly payloadCtx: PayloadContext;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly lastProgress = new Map<string, string>();
  private readonly shutdown = new AbortController();
  private started = false;
  private stopping = false;
  private pumping = false;
  private again = false;
  private backoffUntil = 0;
  private storeErrors = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The claim round in flight, awaited by `stop` so nothing touches the store after it. */
  private pumpTask: Promise<void> | null = null;

  constructor(
    private readonly store: JobStore,
    registry: HandlerRegistry,
    opts: DispatcherOptions,
    private readonly logger: WorkerLogger,
  ) {
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const concurrency = Math.max(1, opts.concurrency ?? 16);
    this.o = {
      concurrency,
      timeoutMs,
      maxRetries: Math.max(0, opts.maxRetries ?? 8),
      backoffBaseMs: opts.backoffBaseMs ?? 1000,
      backoffMaxMs: opts.backoffMaxMs ?? 300_000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 3_600_000,
      signingSecret: opts.signingSecret ?? null,
      guard: opts.guard,
      pollIntervalMs: opts.pollIntervalMs ?? 1000,
      leaseMs: opts.leaseMs ?? timeoutMs + 60_000,
      slowAfterMs: opts.slowAfterMs ?? 10_000,
      maxInFlight: Math.max(concurrency, opts.maxInFlight ?? concurrency * 8),
    };
    this.policy = { maxRetries: this.o.maxRetries, backoffBaseMs: this.o.backoffBaseMs, backoffMaxMs: this.o.backoffMaxMs, maxRetryAfterMs: this.o.maxRetryAfterMs };
    this.payloadCtx = { registry, publicBaseUrl: opts.publicBaseUrl ?? null };
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}:webhooks`;
    // every request in flight listens to the shutdown signal
    setMaxListeners(0, this.shutdown.signal);
  }

  /** Requests in flight (both lanes). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.store.subscribe((e) => {
      if (e.type === 'outbox') this.wake();
    });
    this.timer = setInterval(() => this.wake(), Math.max(10, this.o.pollIntervalMs));
    this.timer.unref();
    this.wake();
    this.logger.info({ owner: this.owner, concurrency: this.o.concurrency, timeout_ms: this.o.timeoutMs }, 'webhook dispatcher started');
  }

  /**
   * Stops claiming, waits up to `graceMs` for requests in flight, then aborts the rest (an
   * aborted request counts like a timeout: not resent under at_most_once if it was sent).
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.pumpTask?.catch(() => undefined);
    const all = () => Promise.allSettled([...this.inFlight.values()].map((f) => f.task));
    let graceTimer: NodeJS.Timeout | null = null;
    await Promise.race([all(), new Promise<void>((r) => (graceTimer = setTimeout(r, Math.max(0, graceMs))))]);
    if (graceTimer) clearTimeout(graceTimer);
    this.shutdown.abort();
    await all();
    this.logger.info({ owner: this.owner }, 'webhook dispatcher stopped');
  }

  /** Schedules a claim round (coalesced). */
  wake(): void {
    if (!this.started || this.stopping) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.pumpTask = this.pump().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /**
   * Slots to claim now. While fast requests are running, claims wait until a quarter of the
   * slots is free, so a busy outbox is claimed in batches (one store round trip for many).
   */
  private freeSlots(): number {
    let fast = 0;
    for (const f of this.inFlight.values()) if (!f.slow) fast += 1;
    const free = Math.max(0, Math.min(this.o.concurrency - fast, this.o.maxInFlight - this.inFlight.size));
    return fast > 0 && free < Math.max(1, Math.floor(this.o.concurrency / 4)) ? 0 : free;
  }

  private async pump(): Promise<void> {
    const wait = this.backoffUntil - Date.now();
    if (wait > 0) return this.wakeIn(wait);
    try {
      for (let free = this.freeSlots(); free > 0 && !this.stopping; free = this.freeSlots()) {
        const records = await this.store.claimOutbox({ owner: this.owner, limit: free, leaseMs: this.o.leaseMs });
        this.storeErrors = 0;
        for (const r of records) this.launch(r);
        if (records.length < free) break;
      }
    } catch (err) {
      this.storeErrors += 1;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(7, this.storeErrors));
      this.backoffUntil = Date.now() + delay;
      this.logger.error({ err: coerceError(err).message, retry_in_ms: delay }, 'webhook dispatcher: claiming outbox records failed');
      this.wakeIn(delay);
    }
  }

  private wakeIn(ms: number): void {
    if (this.retryTimer || this.stopping) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.wake();
    }, ms);
    this.retryTimer.unref();
  }

  private launch(record: OutboxRecord): void {
    const entry: InFlight = { startedAt: Date.now(), slow: false, task: Promise.resolve() };
    const slowTimer = setTimeout(() => {
      entry.slow = true;
      this.wake();
    }, this.o.slowAfterMs);
    slowTimer.unref();
    entry.task = this.deliver(record)
      .catch((err: unknown) => {
        this.logger.error({ event_id: record.event_id, job_id: record.job_id, err: coerceError(err).message }, 'webhook delivery crashed');
      })
      .finally(() => {
        clearTimeout(slowTimer);
        this.inFlight.delete(record.event_id);
        this.wake();
      });
    this.inFlight.set(record.event_id, entry);
  }

  private async finish(record: OutboxRecord, f: OutboxFinish): Promise<void> {
    try {
      const ok = await this.store.finishOutbox(record.event_id, this.owner, f);
      if (!ok) this.logger.warn({ event_id: record.event_id, job_id: record.job_id }, 'webhook: outbox lease lost before finishing');
    } catch (err) {
      // the record stays `sending`; its lease expires and it is reclaimed (crash rule applies)
      this.logger.error({ event_id: record.event_id, job_id: record.job_id, err: coerceError(err).message }, 'webhook: finishing outbox record failed');
    }
  }

  private attempt(record: OutboxRecord, outcome: DeliveryAttempt['outcome'], extra: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
    return {
      event_id: record.event_id,
      kind: record.kind,
      attempt: record.attempts,
      at: new Date().toISOString(),
      status_code: null,
      latency_ms: null,
      error: null,
      outcome,
      ...extra,
    };
  }

  private skip(record: OutboxRecord, why: string): Promise<void> {
    return this.finish(record, { outcome: 'skipped', attempt: this.attempt(record, 'skipped', { error: why }) });
  }

  /** Handles one claimed record; always finishes it (or leaves it to its lease on store errors). */
  private async deliver(record: OutboxRecord): Promise<void> {
    let webhook: WebhookConfig | null;
    let body: unknown;
    if (record.kind === 'batch') {
      const batch = record.batch_id ? await this.store.getBatch(record.batch_id) : null;
      if (!batch?.webhook) return this.finish(record, { outcome: 'skipped' });
      webhook = batch.webhook;
      body = batchBody(batch);
    } else {
      const job = record.job_id ? await this.store.getJob(record.job_id) : null;
      if (!job) return this.finish(record, { outcome: 'skipped' });
      if (!job.webhook) return this.skip(record, 'job has no webhook');
      webhook = job.webhook;
      const stale = this.staleReason(record, job);
      if (stale) return this.skip(record, stale);
      if (record.attempts > 1 && (webhook.delivery ?? 'at_most_once') === 'at_most_once' && (await this.interrupted(record))) {
        this.logger.warn({ event_id: record.event_id, job_id: record.job_id, kind: record.kind }, 'webhook: previous attempt was interrupted (process stopped); not resent under at_most_once');
        return this.finish(record, {
          outcome: 'failed',
          attempt: this.attempt(record, 'failed', { error: 'previous attempt was interrupted (process stopped while sending; outcome unknown); not resent: at_most_once' }),
        });
      }
      body = callbackBody(job, record.kind, this.payloadCtx, record.snapshot?.progress ?? null);
    }
    await this.send(record, webhook, JSON.stringify(body));
  }

  /** Why a job record should not be sent (superseded or out-of-date), or null. */
  private staleReason(record: OutboxRecord, job: Job): string | null {
    if (record.kind === 'progress') {
      if (record.superseded) return 'superseded by a newer callback';
      if (isTerminal(job.status)) return 'job already terminal';
      const p = record.snapshot?.progress;
      const key = p ? `${p.step}|${p.percent}|${p.message ?? ''}` : '';
      if (this.lastProgress.get(job.job_id) === key) return 'progress unchanged';
      return null;
    }
    const expected = TERMINAL_OF[record.kind];
    if (expected && job.status !== expected) return `job is ${job.status} now, no longer ${expected}`;
    return null;
  }

  /** True when an earlier attempt of this record has no logged outcome (the process died mid-send). */
  private async interrupted(record: OutboxRecord): Promise<boolean> {
    if (!record.job_id) return false;
    const logged = (await this.store.getDeliveries(record.job_id)).filter((d) => d.event_id === record.event_id).length;
    return logged < record.attempts - 1;
  }

  private async send(record: OutboxRecord, webhook: WebhookConfig, body: string): Promise<void> {
    const ctx = { event_id: record.event_id, job_id: record.job_id, batch_id: record.batch_id, kind: record.kind, attempt: record.attempts, url: safeUrlText(webhook.url) };
    let result: PostResult;
    try {
      const target = await checkUrl(webhook.url, this.o.guard);
      const headers = buildHeaders({ webhook, eventId: record.event_id, kind: record.kind, attempt: record.attempts, body, signingSecret: this.o.signingSecret });
      result = await postJson({ target, headers, body, timeoutMs: this.o.timeoutMs, signal: this.shutdown.signal });
    } catch (err) {
      if (err instanceof SecretaryError) {
        this.logger.warn({ ...ctx, err: err.message }, 'webhook refused');
        return this.finish(record, { outcome: 'failed', attempt: this.attempt(record, 'failed', { error: `${err.code}: ${err.message}` }) });
      }
      const e = coerceError(err) as Error & { code?: string };
      result = { kind: 'not_delivered', error: `${e.code ? `${e.code}: ` : ''}${e.message}`, latencyMs: 0 };
    }
    const d = decide(result, webhook.delivery, record.attempts, this.policy);
    const status = result.kind === 'response' ? result.status : null;
    const attempt = this.attempt(record, d.outcome, { status_code: status, latency_ms: result.latencyMs, error: d.error });
    if (d.outcome === 'retry') {
      this.logger.warn({ ...ctx, status, err: d.error, retry_in_ms: d.delayMs }, 'webhook not delivered; will retry');
      await this.finish(record, { outcome: 'retry', next_attempt_at: new Date(Date.now() + d.delayMs).toISOString(), attempt });
      this.wakeIn(d.delayMs + 5);
      return;
    }
    if (d.outcome === 'failed') this.logger.warn({ ...ctx, status, err: d.error }, 'webhook delivery failed');
    else this.logger.debug?.({ ...ctx, status, latency_ms: result.latencyMs }, 'webhook delivered');
    this.remember(record);
    await this.finish(record, { outcome: d.outcome, attempt });
  }

  /** Tracks the last progress sent per job (for "only on change"); forgets finished jobs. */
  private remember(record: OutboxRecord): void {
    if (!record.job_id) return;
    if (record.kind !== 'progress') {
      this.lastProgress.delete(record.job_id);
      return;
    }
    const p = record.snapshot?.progress;
    if (this.lastProgress.size > 50_000) this.lastProgress.clear();
    this.lastProgress.set(record.job_id, p ? `${p.step}|${p.percent}|${p.message ?? ''}` : '');
  }
}
