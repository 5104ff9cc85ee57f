/**
 * The NOTIFY wire format of the PostgreSQL store (channel `secretary_events[_<schema>]`), written
 * by the SQL in `sql/fragments.ts` and `sql/batch.ts`, read here. Payloads are small JSON
 * objects (always under 8000 bytes; never results):
 *
 * - `{o, k:'j', id, t, b, u, s, v, at, p, w}`: a job change (`at` epoch ms; `p` progress with step
 *   and message cut to 200/1000 characters; `w` true when the change wrote outbox records). A
 *   change to `pending` also means "jobs of type `t` are claimable" (`enqueued`).
 * - `{o, k:'b', id, s, w}`: a batch changed status.
 * - `{o, k:'o'}`: outbox records are waiting.
 * - `{o, k:'x'}`: a change too large to describe (ignored; polling covers it).
 *
 * `o` is the sending store instance: an instance ignores its own notifications, because it
 * already published those events in-process right after commit.
 */
import type { BatchStatus, JobProgress, JobStatus } from '../../core/job.js';
import type { StoreEvent } from '../job-store.js';

interface Payload {
  o?: string;
  k?: string;
  id?: string;
  t?: string;
  b?: string | null;
  u?: string | null;
  s?: string;
  v?: number;
  at?: number;
  p?: JobProgress | null;
  w?: boolean;
}

/** The events a notification stands for; `[]` for our own, unknown or malformed ones. */
export const decodeNotification = (text: string, ownOrigin: string): StoreEvent[] => {
  let p: Payload;
  try {
    p = JSON.parse(text) as Payload;
  } catch {
    return [];
  }
  if (typeof p !== 'object' || p === null || p.o === ownOrigin) return [];
  if (p.k === 'j' && typeof p.id === 'string' && typeof p.t === 'string' && typeof p.s === 'string') {
    const events: StoreEvent[] = [
      {
        type: 'job',
        change: {
          job_id: p.id,
          job_type: p.t,
          batch_id: p.b ?? null,
          user_id: p.u ?? null,
          status: p.s as JobStatus,
          progress: p.p ?? null,
          version: Number(p.v ?? 0),
          updated_at: new Date(Number(p.at ?? 0)).toISOString(),
        },
      },
    ];
    if (p.s === 'pending') events.push({ type: 'enqueued', job_types: [p.t] });
    if (p.w === true) events.push({ type: 'outbox' });
    return events;
  }
  if (p.k === 'b' && typeof p.id === 'string' && typeof p.s === 'string') {
    const events: StoreEvent[] = [{ type: 'batch', batch_id: p.id, status: p.s as BatchStatus }];
    if (p.w === true) events.push({ type: 'outbox' });
    return events;
  }
  if (p.k === 'o') return [{ type: 'outbox' }];
  return [];
};
