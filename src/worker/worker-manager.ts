/**
 * The worker: claims jobs from the store and runs their handlers with bounded concurrency.
 *
 * - Pickup is push-driven: store `enqueued` events and freed slots wake the claim loop at
 *   once; `poll_interval_sec` is only the fallback (other processes on a store without
 *   cross-process events, scheduled `run_at`).
 * - `max_concurrent` and `max_concurrent_per_type` are never exceeded: each claim asks for at
 *   most the free room and reserves it until its answer is back (`slots.ts`); cluster-wide caps
 *   are enforced by the store.
 * - Leases are renewed by a heartbeat; a lost lease, a cancel, a timeout or a shutdown aborts
 *   the handler through its `AbortSignal`.
 * - Background loops never throw: failures are logged and retried.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClaimedJob } from '../core/job.js';
import { coerceError, UnrecoverableError } from '../core/errors.js';
import type { JobStore, StoreEvent } from '../store/job-store.js';
import { JobAbort } from './abort-reasons.js';
import type { HandlerRegistry } from './registry.js';
import { decideFailure } from './retry-policy.js';
import { RunningJob } from './running-job.js';
import { runHandler } from './run-handler.js';
import { Slots } from './slots.js';
import { ClaimDeferral } from './claim-gate.js';
import type { WorkerEvents, WorkerLogger, WorkerOptions } from './worker-options.js';

export type { WorkerEvents, WorkerLogger, WorkerOptions } from './worker-options.js';
export type { ClaimGate } from './claim-gate.js';

export class WorkerManager {
  readonly workerId: string;
  private readonly running = new Map<string, RunningJob>();
  private readonly slots: Slots;
  private readonly tasks = new Set<Promise<void>>();
  private started = false;
  private stopping = false;
  /** Claims under way (each holds a reservation in `slots`). */
  private claiming = 0;
  private readonly maxClaims: number;
  private again = false;
  /** The last claim filled its limit: there is a backlog worth a second claim in flight. */
  private backlog = false;
  private scheduled = false;
  private claimBackoffUntil = 0;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private unknownSweepAt = 0;
  private readonly deferral: ClaimDeferral;

  constructor(
    private readonly store: JobStore,
    private readonly registry: HandlerRegistry,
    private readonly opts: WorkerOptions,
    private readonly logger: WorkerLogger,
    private readonly events: WorkerEvents = {},
  ) {
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.slots = new Slots(opts.maxConcurrent);
    this.deferral = new ClaimDeferral(opts.claimGate, () => this.wake());
    this.maxClaims = Math.max(
      1,
      Math.floor(opts.claimsInFlight ?? (store.capabilities.skipLocked ? 2 : 1)),
    );
  }

  get runningCount(): number {
    return this.running.size;
  }

  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.store.subscribe((e) => this.onStoreEvent(e));
    const every = (ms: number, fn: () => Promise<void>): void => {
      const t = setInterval(() => this.track(fn()), Math.max(10, ms));
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.pollIntervalMs, async () => this.wake());
    every(this.opts.heartbeatMs, () => this.heartbeat());
    every(this.opts.reaperIntervalMs, () => this.reap());
    this.track(this.reap());
    this.wake();
    this.logger.info(
      {
        worker: this.workerId,
        types: this.registry.types(),
        max_concurrent: this.opts.maxConcurrent,
      },
      'worker started',
    );
  }

  /** Background work in flight (claim, heartbeat, reaper): awaited by `stop` so nothing
   *  touches the store after it returns. */
  private readonly background = new Set<Promise<unknown>>();

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Stops claiming, waits up to `graceMs` for running jobs, then hands the rest back. */
  async stop(graceMs: number): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + graceMs;
    while (this.running.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.tasks]),
        sleep(Math.min(100, deadline - Date.now())),
      ]);
    }
    for (const r of this.running.values())
      r.abort(new JobAbort('shutdown', 'worker shutting down'));
    await Promise.allSettled([...this.tasks]);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.deferral.stop();
    await Promise.allSettled([...this.background]);
    this.unsubscribe?.();
    this.logger.info({ worker: this.workerId }, 'worker stopped');
  }

  private onStoreEvent(e: StoreEvent): void {
    if (e.type === 'enqueued') {
      if (e.job_types.some((t) => this.registry.has(t)) || this.opts.failUnknownTypes !== false)
        this.wake();
    } else if (e.type === 'job' && e.change.status !== 'processing') {
      const r = this.running.get(e.change.job_id);
      if (r && e.change.status === 'cancelled') r.abort(new JobAbort('cancelled', 'job cancelled'));
    }
  }

  /** Schedules a claim round (coalesced: several wakeups in one tick make one claim). */
  wake(): void {
    if (!this.started || this.stopping) return;
    if (this.deferral.defer()) return;
    if (this.claiming >= this.maxClaims) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.track(this.fill());
    });
  }

  /** Room per type for a claim of at most `limit` jobs, by this worker's per-type limits. */
  private room(limit: number): Record<string, number> {
    return this.slots.room(
      limit,
      this.registry
        .definitions()
        .map((d) => [d.type, this.opts.maxConcurrentPerType?.[d.type] ?? d.concurrency]),
    );
  }

  /**
   * Claims into the free slots. Up to `maxClaims` of these run at once; each reserves the
   * slots (overall and per type) it may fill until its answer is back, so together they never
   * exceed `max_concurrent` or `max_concurrent_per_type`.
   */
  private async fill(): Promise<void> {
    if (this.claiming >= this.maxClaims || this.stopping || Date.now() < this.claimBackoffUntil)
      return;
    this.claiming++;
    try {
      do {
        this.again = false;
        const limit = Math.min(
          this.slots.free(),
          Math.ceil(this.opts.maxConcurrent / this.maxClaims),
        );
        const types = this.room(limit);
        if (limit <= 0 || Object.keys(types).length === 0) break;
        const unreserve = this.slots.reserve(limit, types);
        // a backlog and slots left over: the next claim can start while this one is under way
        // (without a backlog a second claim would only find nothing, doubling idle polling)
        if (this.maxClaims > 1 && this.backlog && this.slots.free() > 0) this.wake();
        const t0 = performance.now();
        let jobs: ClaimedJob[];
        try {
          jobs = await this.store.claim({
            owner: this.workerId,
            limit,
            types,
            clusterLimits: this.opts.clusterMaxConcurrentPerType,
            leaseMs: this.opts.leaseMs,
          });
        } finally {
          unreserve();
        }
        this.events.onClaim?.(jobs.length, performance.now() - t0);
        for (const job of jobs) this.launch(job);
        this.backlog = jobs.length > 0 && jobs.length === limit;
        if (this.backlog) this.again = true;
      } while (this.again && !this.stopping);
      await this.sweepUnknownTypes();
    } catch (err) {
      this.claimBackoffUntil = Date.now() + 1000;
      this.logger.error(
        { err: coerceError(err), worker: this.workerId },
        'claim failed; retrying in 1 s',
      );
    } finally {
      this.claiming--;
    }
  }

  /** Jobs of a type nobody registered would wait forever; fail them with UNKNOWN_JOB_TYPE. */
  private async sweepUnknownTypes(): Promise<void> {
    if (this.opts.failUnknownTypes === false || Date.now() < this.unknownSweepAt) return;
    this.unknownSweepAt = Date.now() + Math.max(this.opts.reaperIntervalMs * 6, 5_000);
    if (this.slots.free() <= 0) return;
    const { by_status } = await this.store.stats();
    const unknown = [
      ...new Set(
        by_status
          .filter((s) => s.status === 'pending' && !this.registry.has(s.job_type))
          .map((s) => s.job_type),
      ),
    ];
    const free = this.slots.free();
    if (unknown.length === 0 || free <= 0) return;
    const types = Object.fromEntries(unknown.map((t) => [t, free]));
    const unreserve = this.slots.reserve(free, types);
    let jobs: ClaimedJob[];
    try {
      jobs = await this.store.claim({
        owner: this.workerId,
        limit: free,
        types,
        leaseMs: this.opts.leaseMs,
      });
    } finally {
      unreserve();
    }
    for (const job of jobs) this.launch(job);
    if (jobs.length) this.unknownSweepAt = 0;
  }

  private launch(job: ClaimedJob): void {
    const r = new RunningJob(job, {
      store: this.store,
      workerId: this.workerId,
      progressIntervalMs: this.opts.progressIntervalMs ?? 1000,
      onStoreError: (err, what) =>
        this.logger.warn(
          { err: coerceError(err), job_id: job.job_id },
          `store write failed (${what})`,
        ),
    });
    this.running.set(job.job_id, r);
    this.slots.take(job.job_type);
    this.events.onJobStart?.(job);
    const task = this.execute(r).finally(() => {
      this.freeSlot(r);
      this.tasks.delete(task);
    });
    this.tasks.add(task);
  }

  /**
   * Gives the job's slot back (idempotent). Called as soon as the handler is done and its
   * terminal write is issued, so the next claim can share that write's transaction.
   */
  private freeSlot(r: RunningJob): void {
    if (this.running.get(r.job.job_id) !== r) return;
    this.running.delete(r.job.job_id);
    this.slots.give(r.job.job_type);
    this.wake();
  }

  /**
   * Runs one claimed job. The try/finally guarantees that a claimed job is ALWAYS completed,
   * failed or released (or was already settled by someone else: cancel, reaper).
   */
  private async execute(r: RunningJob): Promise<void> {
    const job = r.job;
    const started = Date.now();
    let outcome: 'completed' | 'failed' | 'retry' | 'released' | 'lost' = 'lost';
    let settled = false;
    try {
      const def = this.registry.get(job.job_type);
      if (!def) {
        throw new UnrecoverableError(
          `no handler registered for job_type ${JSON.stringify(job.job_type)}`,
          'UNKNOWN_JOB_TYPE',
        );
      }
      const timeoutMs =
        this.opts.timeoutMsPerType?.[job.job_type] ??
        (def.timeoutSec ? def.timeoutSec * 1000 : this.opts.timeoutMs);
      const result = await runHandler(def.handler, job, r, timeoutMs);
      const pending = r.settle();
      const logs = Array.isArray(pending) ? pending : await pending;
      if (r.lost) return;
      const completing = this.store.complete(r.lease, result ?? {}, logs);
      this.freeSlot(r);
      settled = await completing;
      outcome = settled ? 'completed' : 'lost';
    } catch (thrown) {
      const logs = await r.settle();
      const kind = r.abortKind;
      if (kind === 'cancelled' || kind === 'lease_lost' || r.lost) return;
      if (kind === 'shutdown') {
        settled = await this.store.release(r.lease, 'worker shut down before the job finished');
        outcome = 'released';
        return;
      }
      const decision = decideFailure(job, kind === 'timeout' ? null : coerceError(thrown), {
        baseMs: this.opts.backoffBaseMs,
        maxMs: this.opts.backoffMaxMs,
      });
      const failing = this.store.fail(r.lease, decision.error, { retryAt: decision.retryAt }, logs);
      this.freeSlot(r);
      settled = await failing;
      outcome = settled ? (decision.retryAt ? 'retry' : 'failed') : 'lost';
    } finally {
      if (!settled && !r.lost && outcome !== 'released') {
        // A store write failed above: hand the job back so it is not left holding a lease.
        await this.store
          .release(r.lease, 'worker could not record the outcome')
          .catch((err: unknown) => {
            this.logger.error(
              { err: coerceError(err), job_id: job.job_id },
              'release failed; the reaper will recover the job',
            );
          });
      }
      this.events.onJobEnd?.(job, outcome, Date.now() - started);
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.running.size === 0) return;
    try {
      const leases = [...this.running.values()].filter((r) => !r.lost).map((r) => r.lease);
      const lost = await this.store.extendLeases(this.workerId, leases, this.opts.leaseMs);
      for (const id of lost)
        this.running.get(id)?.abort(new JobAbort('lease_lost', 'lease lost (heartbeat)'));
    } catch (err) {
      this.logger.error({ err: coerceError(err), worker: this.workerId }, 'heartbeat failed');
    }
  }

  private async reap(): Promise<void> {
    try {
      const { requeued, failed } = await this.store.reapExpiredLeases();
      if (requeued.length || failed.length) {
        this.logger.warn({ requeued, failed }, 'reaped jobs of lost workers');
        this.wake();
      }
    } catch (err) {
      this.logger.error({ err: coerceError(err) }, 'reaper failed');
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
