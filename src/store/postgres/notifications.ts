/**
 * The NOTIFY wire format of the PostgreSQL store (channel `secretary_events[_<schema>]`).
 * A payload is `{"o": origin, "e": [StoreEvent, …]}`, always under 8000 bytes (the server's
 * limit): events are packed into as few payloads as fit; a job change whose progress message is
 * too long travels with the message cut to 1000 characters. Results never travel.
 *
 * `o` is the sending store instance: an instance ignores its own notifications, because it
 * published those events in-process right after commit.
 */
import type { StoreEvent } from '../job-store.js';

/** Largest payload we send (the server refuses 8000 bytes and more). */
export const MAX_NOTIFY_BYTES = 7900;

const EVENT_TYPES = new Set(['job', 'enqueued', 'batch', 'outbox']);

const shrink = (event: StoreEvent): StoreEvent => {
  if (event.type !== 'job' || !event.change.progress) return event;
  const p = event.change.progress;
  return {
    type: 'job',
    change: {
      ...event.change,
      progress: {
        step: String(p.step).slice(0, 200),
        percent: p.percent,
        message: p.message?.slice(0, 1000) ?? null,
      },
    },
  };
};

/** Packs events into NOTIFY payloads; an event that cannot be made small enough is dropped. */
export const encodeNotifications = (origin: string, events: StoreEvent[]): string[] => {
  const head = `{"o":${JSON.stringify(origin)},"e":[`;
  const room = MAX_NOTIFY_BYTES - Buffer.byteLength(head) - 2;
  const payloads: string[] = [];
  let parts: string[] = [];
  let size = 0;
  const close = (): void => {
    if (parts.length) payloads.push(`${head}${parts.join(',')}]}`);
    parts = [];
    size = 0;
  };
  for (const event of events) {
    let text = JSON.stringify(event);
    let bytes = Buffer.byteLength(text);
    if (bytes > room) {
      text = JSON.stringify(shrink(event));
      bytes = Buffer.byteLength(text);
      if (bytes > room) continue;
    }
    if (size + bytes + 1 > room) close();
    parts.push(text);
    size += bytes + 1;
  }
  close();
  return payloads;
};

/** The events of a notification; `[]` for our own, and for malformed ones. */
export const decodeNotification = (text: string, ownOrigin: string): StoreEvent[] => {
  // Our own notifications (most of them, in a busy single process) are skipped unparsed.
  if (text.startsWith(`{"o":${JSON.stringify(ownOrigin)},`)) return [];
  let p: { o?: unknown; e?: unknown };
  try {
    p = JSON.parse(text) as { o?: unknown; e?: unknown };
  } catch {
    return [];
  }
  if (typeof p !== 'object' || p === null || p.o === ownOrigin || !Array.isArray(p.e)) return [];
  return p.e.filter(
    (e): e is StoreEvent =>
      typeof e === 'object' &&
      e !== null &&
      EVENT_TYPES.has((e as { type?: unknown }).type as string),
  );
};
