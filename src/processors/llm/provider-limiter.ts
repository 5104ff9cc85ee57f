/**
 * A counting semaphore per provider, shared by every job of the process: at most
 * `max_concurrent` requests in flight to one provider, whoever sends them. Waiters are served
 * in arrival order; a waiter whose signal aborts leaves the queue at once.
 */
import { abortError } from '../abort.js';

export class ProviderLimiter {
  private active = 0;
  private readonly waiting: Array<{
    grant: () => void;
    signal?: AbortSignal;
    onAbort?: () => void;
  }> = [];

  constructor(private limit: number) {}

  /** Requests in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.drain();
  }

  /** Resolves with a release function once a slot is free; rejects when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const entry: (typeof this.waiting)[number] = {
        signal,
        grant: () => {
          if (entry.onAbort) signal?.removeEventListener('abort', entry.onAbort);
          this.active++;
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.active--;
            this.drain();
          });
        },
      };
      if (signal) {
        entry.onAbort = () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.waiting.push(entry);
      this.drain();
    });
  }

  private drain(): void {
    while (this.active < Math.max(1, this.limit) && this.waiting.length > 0)
      this.waiting.shift()!.grant();
  }
}
