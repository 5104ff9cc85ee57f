import type { StoreEvent, StoreListener } from './job-store.js';

/**
 * In-process fan-out of store events. A throwing listener is isolated: it never breaks the
 * store operation that published the event, nor other listeners.
 */
export class EventHub {
  private readonly listeners = new Set<StoreListener>();

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  publish(event: StoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the store's write already committed.
      }
    }
  }

  publishAll(events: StoreEvent[]): void {
    for (const e of events) this.publish(e);
  }
}
