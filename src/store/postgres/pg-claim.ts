/**
 * `claim` of the PostgreSQL store: picks the cheapest statement that honours the request.
 *
 * - Several types, no type's room binds, no cluster caps: `claimAny` (one scan of `jobs_claim`
 *   in queue order, skipping other types' rows; one round trip).
 * - One type, or a type's room is smaller than the limit: `claimPerType` (per type one scan of
 *   `jobs_claim_type`, so a backlog of other types costs nothing; one round trip).
 * - Cluster caps: `BEGIN` + per-type advisory locks, `claimPerType` counting `processing` jobs,
 *   `COMMIT` (three round trips; the lock makes the count and the claim one atomic step across
 *   all claimers of that type).
 */
import { randomUUID } from 'node:crypto';
import type { ClaimedJob } from '../../core/job.js';
import type { ClaimRequest } from '../job-store.js';
import type { PgContext } from './pg-context.js';
import { rowToClaimedJob, type JobRow } from './rows.js';
import type { BatchChanges } from './sql/batch.js';
import { beginWithTypeLocks } from './sql/claim.js';

type ClaimRow = JobRow & { batch_changes: BatchChanges };

interface ClaimPlan {
  types: string[];
  rooms: number[];
  caps: (number | null)[];
}

const planClaim = (req: ClaimRequest, limit: number): ClaimPlan => {
  const plan: ClaimPlan = { types: [], rooms: [], caps: [] };
  for (const [type, room] of Object.entries(req.types)) {
    const r = Math.min(Math.floor(room), limit);
    if (!(r > 0)) continue;
    const cap = req.clusterLimits?.[type];
    if (cap !== undefined && !(cap > 0)) continue;
    plan.types.push(type);
    plan.rooms.push(r);
    plan.caps.push(cap === undefined ? null : Math.floor(cap));
  }
  return plan;
};

export const claimJobs = async (ctx: PgContext, req: ClaimRequest): Promise<ClaimedJob[]> => {
  const limit = Math.floor(req.limit);
  if (!(limit > 0)) return [];
  const plan = planClaim(req, limit);
  if (plan.types.length === 0) return [];
  const leaseMs = Math.max(0, Math.round(req.leaseMs));
  const capped = plan.types.filter((_, i) => plan.caps[i] !== null);
  const effective = Math.min(
    limit,
    plan.rooms.reduce((a, b) => a + b, 0),
  );

  let rows: ClaimRow[];
  if (capped.length === 0 && plan.types.length > 1 && plan.rooms.every((r) => r >= effective)) {
    rows = await ctx.rows<ClaimRow>(ctx.sql.claimAny, [
      plan.types,
      effective,
      req.owner,
      leaseMs,
      randomUUID(),
    ]);
  } else {
    const values = [plan.types, plan.rooms, plan.caps, limit, req.owner, leaseMs, randomUUID()];
    rows =
      capped.length === 0
        ? await ctx.rows<ClaimRow>(ctx.sql.claimPerType, values)
        : await ctx.tx(
            (c) => ctx.rows<ClaimRow>(ctx.sql.claimPerType, values, c),
            beginWithTypeLocks(ctx.names, capped),
          );
  }
  if (rows.length === 0) return [];
  ctx.publishChanges(rows, rows[0]?.batch_changes);
  return rows.map(rowToClaimedJob);
};
