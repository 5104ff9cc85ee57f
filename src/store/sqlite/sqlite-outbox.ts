/** The webhook outbox of the SQLite store. */
import type {
  DeliveryAttempt,
  OutboxClaimRequest,
  OutboxFinish,
  OutboxKind,
  OutboxRecord,
} from '../job-store.js';
import type { SqliteContext } from './sqlite-context.js';
import { parseDeliveries, rowToOutbox, type OutboxRow } from './rows.js';

/** A record is the head of its target: no older unfinished record of the same target. */
const HEAD = `NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.target = o.target
                AND o2.status IN ('pending', 'sending') AND o2.seq < o.seq)`;
/** A later record of the same target waits (later records can only be `pending`). */
const SUPERSEDED = `EXISTS (SELECT 1 FROM outbox o3 WHERE o3.target = o.target
                     AND o3.status IN ('pending', 'sending') AND o3.seq > o.seq) AS superseded`;

// Neither query touches finished records: due records walk `outbox_due` in order and stop at
// the limit; expired leases scan the open records (`outbox_open`). A partial index on
// `lease_expires_at WHERE status = 'sending'` would make that scan O(expired) too.
const EXPIRED_SQL = `SELECT o.*, ${SUPERSEDED} FROM outbox o INDEXED BY outbox_open
  WHERE o.status IN ('pending', 'sending') AND o.status = 'sending' AND o.lease_expires_at < @now AND ${HEAD}
  ORDER BY o.seq LIMIT @limit`;
const DUE_SQL = `SELECT o.*, ${SUPERSEDED} FROM outbox o
  WHERE o.status = 'pending' AND o.next_attempt_at <= @now AND ${HEAD}
  ORDER BY o.next_attempt_at, o.seq LIMIT @limit`;

export const claimOutbox = (ctx: SqliteContext, req: OutboxClaimRequest): OutboxRecord[] => {
  const now = Date.now();
  const limit = Math.max(1, req.limit);
  const rows = ctx.stmt(EXPIRED_SQL).all({ now, limit }) as OutboxRow[];
  if (rows.length < limit)
    rows.push(...(ctx.stmt(DUE_SQL).all({ now, limit: limit - rows.length }) as OutboxRow[]));
  const mark = ctx.stmt(
    `UPDATE outbox SET status = 'sending', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1
     WHERE seq = ?`,
  );
  return rows.map((r) => {
    mark.run(req.owner, now + req.leaseMs, r.seq);
    return rowToOutbox({ ...r, status: 'sending', attempts: r.attempts + 1 });
  });
};

export const finishOutbox = (
  ctx: SqliteContext,
  eventId: string,
  owner: string,
  f: OutboxFinish,
): boolean => {
  const now = Date.now();
  const status = f.outcome === 'retry' ? 'pending' : f.outcome;
  const next = f.outcome === 'retry' ? Date.parse(f.next_attempt_at ?? '') || now : now;
  const row = ctx
    .stmt(
      `UPDATE outbox SET status = ?, next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE event_id = ? AND status = 'sending' AND lease_owner = ? RETURNING job_id`,
    )
    .get(status, next, eventId, owner) as { job_id: string | null } | undefined;
  if (!row) return false;
  if (f.attempt && row.job_id) appendDelivery(ctx, row.job_id, f.attempt);
  if (f.outcome === 'retry' || f.outcome === 'delivered' || f.outcome === 'skipped') {
    // the next record of this target may now be sendable
    ctx.emit({ type: 'outbox' });
  }
  return true;
};

const appendDelivery = (ctx: SqliteContext, jobId: string, attempt: DeliveryAttempt): void => {
  const row = ctx.stmt(`SELECT deliveries FROM jobs WHERE job_id = ?`).get(jobId) as
    { deliveries: string } | undefined;
  if (!row) return;
  const list = [...parseDeliveries(row.deliveries), attempt];
  const capped =
    list.length > ctx.limits.maxDeliveries
      ? list.slice(list.length - ctx.limits.maxDeliveries)
      : list;
  ctx.stmt(`UPDATE jobs SET deliveries = ? WHERE job_id = ?`).run(JSON.stringify(capped), jobId);
};

const TERMINAL_KIND: Record<string, OutboxKind> = {
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const redeliver = (ctx: SqliteContext, jobId: string): OutboxRecord | null => {
  const job = ctx.stmt(`SELECT status, webhook FROM jobs WHERE job_id = ?`).get(jobId) as
    { status: string; webhook: string | null } | undefined;
  const kind = job ? TERMINAL_KIND[job.status] : undefined;
  if (!job || !kind || !job.webhook) return null;
  const eventId = ctx.insertOutbox(
    kind,
    { job_id: jobId },
    { status: job.status, redelivery: true },
    Date.now(),
  );
  const row = ctx.stmt(`SELECT * FROM outbox WHERE event_id = ?`).get(eventId) as OutboxRow;
  return rowToOutbox(row);
};

export const listOutbox = (ctx: SqliteContext, jobId: string): OutboxRecord[] =>
  (ctx.stmt(`SELECT * FROM outbox WHERE job_id = ? ORDER BY seq`).all(jobId) as OutboxRow[]).map(
    rowToOutbox,
  );

export const getDeliveries = (ctx: SqliteContext, jobId: string): DeliveryAttempt[] => {
  const row = ctx.stmt(`SELECT deliveries FROM jobs WHERE job_id = ?`).get(jobId) as
    { deliveries: string } | undefined;
  return parseDeliveries(row?.deliveries);
};
