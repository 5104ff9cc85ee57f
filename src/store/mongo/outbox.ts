/** The webhook outbox of the MongoDB store: per target strictly one record in flight, in `seq` order. */
import type { DeliveryAttempt, OutboxClaimRequest, OutboxFinish, OutboxKind, OutboxRecord } from '../job-store.js';
import { docToOutbox, type OutboxDoc } from './documents.js';
import type { MongoContext } from './context.js';
import { outboxClaimFilter, outboxHeadsPipeline, pushCapped } from './queries.js';

/**
 * One aggregation finds, per target, the oldest unfinished record (the head); each head that
 * may go now is then taken with a compare-and-set on `{status, attempts}`, so of several
 * concurrent claimers exactly one gets it, and no target ever has two records `sending`.
 */
export const claimOutbox = async (ctx: MongoContext, req: OutboxClaimRequest): Promise<OutboxRecord[]> => {
  const now = new Date();
  const heads = await ctx.c.outbox
    .aggregate<{ _id: string; head: OutboxDoc; waiting: number }>(outboxHeadsPipeline(now, req.limit))
    .toArray();
  const out: OutboxRecord[] = [];
  for (const h of heads) {
    const d = await ctx.c.outbox.findOneAndUpdate(
      outboxClaimFilter(h.head, now),
      { $set: { status: 'sending', lease_owner: req.owner, lease_expires_at: new Date(now.getTime() + req.leaseMs) }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    );
    if (!d) continue;
    const laterWaiting = h.waiting - (h.head.status === 'pending' ? 1 : 0);
    out.push(docToOutbox(d, laterWaiting > 0));
  }
  return out;
};

export const finishOutbox = async (ctx: MongoContext, eventId: string, owner: string, f: OutboxFinish): Promise<boolean> => {
  const now = new Date();
  const retryAt = f.outcome === 'retry' && f.next_attempt_at ? new Date(f.next_attempt_at) : now;
  const d = await ctx.c.outbox.findOneAndUpdate(
    { event_id: eventId, status: 'sending', lease_owner: owner },
    {
      $set: {
        status: f.outcome === 'retry' ? 'pending' : f.outcome,
        next_attempt_at: Number.isNaN(retryAt.getTime()) ? now : retryAt,
        lease_owner: null,
        lease_expires_at: null,
      },
    },
    { returnDocument: 'after' },
  );
  if (!d) return false;
  if (f.attempt && d.job_id) {
    await ctx.c.jobs.updateOne(
      { job_id: d.job_id },
      { $push: { webhook_deliveries: pushCapped([f.attempt], ctx.limits.maxDeliveries) } },
    );
  }
  // The next record of this target may be sendable now (or this one later).
  ctx.publish([{ type: 'outbox' }]);
  return true;
};

const TERMINAL_KIND: Partial<Record<string, OutboxKind>> = { completed: 'completed', failed: 'failed', cancelled: 'cancelled' };

export const redeliver = async (ctx: MongoContext, jobId: string): Promise<OutboxRecord | null> => {
  const job = await ctx.c.jobs.findOne({ job_id: jobId }, { projection: { status: 1, webhook: 1 } });
  const kind = job ? TERMINAL_KIND[job.status] : undefined;
  if (!job || !kind || !job.webhook) return null;
  const doc = await ctx.unit((u) =>
    ctx.insertOutbox(u, { job_id: jobId }, ctx.intent(kind, { status: job.status, redelivery: true } as OutboxRecord['snapshot'], new Date())),
  );
  return doc ? docToOutbox(doc) : null;
};

export const listOutbox = async (ctx: MongoContext, jobId: string): Promise<OutboxRecord[]> =>
  (await ctx.c.outbox.find({ job_id: jobId }, { sort: { seq: 1 } }).toArray()).map((d) => docToOutbox(d));

export const getDeliveries = async (ctx: MongoContext, jobId: string): Promise<DeliveryAttempt[]> => {
  const job = await ctx.c.jobs.findOne({ job_id: jobId }, { projection: { webhook_deliveries: 1 } });
  return job?.webhook_deliveries ?? [];
};
