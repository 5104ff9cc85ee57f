/**
 * Claims that wait for other work of the process (`WorkerOptions.claimGate`, the API's
 * `IngressActivity`): while the gate is busy a wakeup is deferred and re-checked every 20 ms,
 * for at most `maxDeferMs`; then the claim goes ahead, and a later wakeup in a still busy
 * process waits again.
 */
export interface ClaimGate {
  busy(): boolean;
  readonly maxDeferMs: number;
}

const RECHECK_MS = 20;

export class ClaimDeferral {
  /** Since when claims wait (null: not waiting). */
  private since: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly gate: ClaimGate | undefined,
    /** Called for the re-check (the worker's `wake`). */
    private readonly retry: () => void,
  ) {}

  /** True when this wakeup should wait; one re-check is then scheduled. */
  defer(): boolean {
    if (!this.gate?.busy()) {
      this.since = null;
      return false;
    }
    const now = Date.now();
    this.since ??= now;
    if (now - this.since >= this.gate.maxDeferMs) {
      this.since = null;
      return false;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.retry();
    }, RECHECK_MS);
    return true;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
