/**
 * One claimed job while it runs: its lease, abort controller and the handler context. All of
 * the job's store writes go through one ordered chain, and each is fenced by the lease; the
 * first write that finds the lease gone aborts the handler.
 */
import { addLlmRequest, type ClaimedJob, type JobProgress, type LlmInfo, type LogEntry, type LogLevel } from '../core/job.js';
import type { JobStore, Lease } from '../store/job-store.js';
import { JobAbort, type AbortKind } from './abort-reasons.js';
import type { HandlerContext, UsageRecorder } from './registry.js';

export interface RunningJobOptions {
  store: JobStore;
  workerId: string;
  /** Progress writes at most this often (ms); the latest value wins. */
  progressIntervalMs: number;
  onStoreError: (err: unknown, what: string) => void;
}

export class RunningJob {
  readonly lease: Lease;
  /** Created on first use: most handlers finish without anyone looking at the signal. */
  private controller: AbortController | null = null;
  private abortReason: JobAbort | null = null;
  /** The store no longer holds our lease (cancelled, reaped, re-claimed). */
  lost = false;
  private chain: Promise<unknown> = Promise.resolve();
  private lastProgress: JobProgress | null = null;
  private lastProgressAt = 0;
  private pendingProgress: JobProgress | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private logs: LogEntry[] = [];
  private logTimer: NodeJS.Timeout | null = null;
  private llmInfo: LlmInfo | null = null;
  readonly context: HandlerContext;
  /** Set by `runHandler` while the handler runs: settles its result with the abort reason. */
  onAbort: ((reason: JobAbort) => void) | null = null;
  /** Store writes (progress, logs, llm_info) queued and not yet settled. */
  private writesInFlight = 0;

  constructor(
    readonly job: ClaimedJob,
    private readonly opts: RunningJobOptions,
  ) {
    this.lease = { job_id: job.job_id, lease_token: job.lease_token };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const usage: UsageRecorder = {
      record: (req) => {
        this.llmInfo = addLlmRequest(this.llmInfo, { ...req, timestamp: req.timestamp ?? new Date().toISOString() });
      },
    };
    this.context = {
      get signal() {
        return self.signal;
      },
      progress: (step, percent, message) => this.progress(step, percent, message ?? null),
      log: (level, message) => this.log(level, message),
      usage,
      attempt: job.attempts,
      workerId: opts.workerId,
    };
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.abortReason && !this.controller.signal.aborted) this.controller.abort(this.abortReason);
    return this.controller.signal;
  }

  /** The abort reason, or null while the job may still run. */
  get abortedWith(): JobAbort | null {
    return this.abortReason;
  }

  /** Why the job was aborted, or null. */
  get abortKind(): AbortKind | null {
    return this.abortReason?.kind ?? null;
  }

  abort(reason: JobAbort): void {
    if (reason.kind === 'cancelled' || reason.kind === 'lease_lost') this.lost = true;
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.onAbort?.(reason);
  }

  /** Queues a fenced write; a `false` answer means the lease is gone. */
  private write(what: string, fn: () => Promise<boolean>): Promise<unknown> {
    this.writesInFlight++;
    this.chain = this.chain.then(async () => {
      try {
        if (this.lost) return;
        if (!(await fn())) this.abort(new JobAbort('lease_lost', `lease lost (${what})`));
      } catch (err) {
        this.opts.onStoreError(err, what);
      } finally {
        this.writesInFlight--;
      }
    });
    return this.chain;
  }

  private progress(step: string, percent: number, message: string | null): void {
    if (this.lost || this.abortReason) return;
    const floor = this.lastProgress?.percent ?? 0;
    const p: JobProgress = {
      step: String(step),
      percent: Math.max(floor, Math.max(0, Math.min(100, Math.round(Number(percent) || 0)))),
      message: message === null || message === undefined ? null : String(message),
    };
    const last = this.pendingProgress ?? this.lastProgress;
    if (last && last.step === p.step && last.percent === p.percent && last.message === p.message) return;
    const wait = this.lastProgressAt + this.opts.progressIntervalMs - Date.now();
    if (wait <= 0 && !this.progressTimer) {
      this.sendProgress(p);
      return;
    }
    this.pendingProgress = p;
    this.progressTimer ??= setTimeout(() => {
      this.progressTimer = null;
      const next = this.pendingProgress;
      this.pendingProgress = null;
      if (next) this.sendProgress(next);
    }, Math.max(0, wait));
  }

  private sendProgress(p: JobProgress): void {
    this.lastProgress = p;
    this.lastProgressAt = Date.now();
    void this.write('progress', () => this.opts.store.updateProgress(this.lease, p));
  }

  private log(level: LogLevel, message: string): void {
    if (this.lost) return;
    this.logs.push({ timestamp: new Date().toISOString(), level, message: String(message) });
    this.logTimer ??= setTimeout(() => {
      this.logTimer = null;
      this.flushLogs();
    }, 200);
  }

  private flushLogs(): void {
    const entries = this.logs;
    this.logs = [];
    for (const e of entries) void this.write('log', () => this.opts.store.appendLog(this.lease, e));
  }

  /**
   * Stops timers and returns the logs not yet written (they go with the terminal write). When
   * writes are still in flight the answer is a promise that waits for them; otherwise (the
   * common case: a handler that wrote nothing, or whose writes are done) it is immediate.
   */
  settle(): LogEntry[] | Promise<LogEntry[]> {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    if (this.logTimer) clearTimeout(this.logTimer);
    this.progressTimer = null;
    this.logTimer = null;
    this.pendingProgress = null;
    const logs = this.logs;
    this.logs = [];
    if (this.llmInfo && !this.lost) {
      const info = this.llmInfo;
      void this.write('llm_info', () => this.opts.store.setLlmInfo(this.lease, info));
    }
    if (this.writesInFlight === 0) return logs;
    return this.chain.then(() => logs);
  }
}
