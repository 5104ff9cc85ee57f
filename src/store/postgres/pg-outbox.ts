/** The webhook outbox of the PostgreSQL store. */
import type {
  DeliveryAttempt,
  OutboxClaimRequest,
  OutboxFinish,
  OutboxRecord,
} from '../job-store.js';
import type { PgContext } from './pg-context.js';
import { rowToOutbox, type OutboxRow } from './rows.js';

export const claimOutbox = async (
  ctx: PgContext,
  req: OutboxClaimRequest,
): Promise<OutboxRecord[]> => {
  const limit = Math.max(1, Math.floor(req.limit));
  const leaseMs = Math.max(0, Math.round(req.leaseMs));
  const rows = await ctx.rows<OutboxRow>(ctx.sql.claimOutbox, [limit, req.owner, leaseMs]);
  return rows.map(rowToOutbox);
};

const validInstant = (iso: string | undefined): string | null => {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

export const finishOutbox = async (
  ctx: PgContext,
  eventId: string,
  owner: string,
  f: OutboxFinish,
): Promise<boolean> => {
  const status = f.outcome === 'retry' ? 'pending' : f.outcome;
  const next = f.outcome === 'retry' ? validInstant(f.next_attempt_at) : null;
  // The next record of this target may now be sendable (or this one again, later).
  const wakeSenders = f.outcome !== 'failed';
  const [row] = await ctx.rows<{ finished: number }>(ctx.sql.finishOutbox, [
    eventId,
    owner,
    status,
    next,
    JSON.stringify(f.attempt ? [f.attempt] : []),
    ctx.limits.maxDeliveries,
  ]);
  const finished = (row?.finished ?? 0) > 0;
  if (finished && wakeSenders) ctx.publish([{ type: 'outbox' }]);
  return finished;
};

export const redeliver = async (ctx: PgContext, jobId: string): Promise<OutboxRecord | null> => {
  const [row] = await ctx.rows<OutboxRow>(ctx.sql.redeliver, [jobId]);
  if (!row) return null;
  ctx.publish([{ type: 'outbox' }]);
  return rowToOutbox(row);
};

export const listOutbox = async (ctx: PgContext, jobId: string): Promise<OutboxRecord[]> =>
  (await ctx.rows<OutboxRow>(ctx.sql.listOutbox, [jobId])).map(rowToOutbox);

export const getDeliveries = async (ctx: PgContext, jobId: string): Promise<DeliveryAttempt[]> => {
  const [row] = await ctx.rows<{ deliveries: DeliveryAttempt[] }>(ctx.sql.getDeliveries, [jobId]);
  return row?.deliveries ?? [];
};
