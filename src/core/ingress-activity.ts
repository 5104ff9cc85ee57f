/**
 * Job submissions this process is receiving, so that accepting a burst of them goes before
 * starting the jobs they create. The API counts every POST from its arrival until it is
 * answered (or starts waiting for its job, `wait_ms`). The process is busy while `threshold`
 * or more are in flight, or while `threshold` arrived within the last `windowMs`; then the
 * worker holds its claims back, for at most `maxDeferMs` at a time (`WorkerManager`'s
 * `claimGate`), so jobs never starve under steady traffic and single submissions never wait.
 *
 * Both signals are needed: a burst of 200 uploads reaches the event loop a few at a time (at
 * most ~18 were in flight at once here), so the arrival rate is what tells a burst from steady
 * traffic. Measured in docs/benchmarks.md (`npm run bench:mistral`).
 */
export class IngressActivity {
  private inFlight = 0;
  /** Arrival times of the last `threshold` submissions (ring). */
  private readonly arrivals: number[];
  private next = 0;

  constructor(
    /** In-flight submissions, or arrivals within `windowMs`, from which the process is busy. */
    readonly threshold = 8,
    /** Longest a claim waits for a burst of submissions to be answered; 0: never. */
    readonly maxDeferMs = 1000,
    readonly windowMs = 100,
  ) {
    this.arrivals = new Array<number>(Math.max(1, threshold)).fill(-Infinity);
  }

  /** Counts one submission; the returned function (idempotent) ends it. */
  enter(): () => void {
    this.inFlight++;
    this.arrivals[this.next] = performance.now();
    this.next = (this.next + 1) % this.arrivals.length;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight--;
    };
  }

  get count(): number {
    return this.inFlight;
  }

  busy(): boolean {
    if (this.maxDeferMs <= 0) return false;
    // the oldest of the last `threshold` arrivals is recent: they came at burst rate
    return (
      this.inFlight >= this.threshold ||
      performance.now() - this.arrivals[this.next]! < this.windowMs
    );
  }
}
