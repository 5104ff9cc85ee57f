/**
 * The store's group-committed writes (see `pg-group.ts`): worker finishes (complete, fail, fail
 * with retry, release), progress, lease renewals and single creates. Each kind is one
 * `GroupWriter`: everything issued while the previous statement of that kind is in flight goes
 * out as ONE multi-row statement, whose rows each carry their own fence, so every caller gets
 * its own answer; events are published once the statement committed.
 */
import type { Job } from '../../core/job.js';
import type { Lease } from '../job-store.js';
import type { ChangedRow, PgContext } from './pg-context.js';
import { GroupWriter } from './pg-group.js';
import { jobInsertValue, rowToJob, type JobRow } from './rows.js';
import type { BatchChanges } from './sql/batch.js';
import type { FinishKind } from './sql/grouped.js';

type GroupedRow = ChangedRow & { batch_changes: BatchChanges; i: string };

export interface FinishWrite {
  lease: Lease;
  kind: FinishKind;
  /** JSON text (complete). */
  results: string | null;
  /** JSON text (fail, retry). */
  error: string | null;
  /** JSON array text of log entries to append. */
  logs: string;
  /** ISO instant (retry; null: now). */
  retryAt: string | null;
}

export interface ProgressWrite {
  lease: Lease;
  step: string;
  percent: number;
  message: string | null;
}

export interface ExtendWrite {
  owner: string;
  leases: Lease[];
  leaseMs: number;
}

export interface CreateWrite {
  job: Job;
  runAt: string | null;
}

type InsertedRow = JobRow & { batch_changes: BatchChanges };

/** Which inputs (by 1-based ordinal `i`) a grouped statement matched. */
const matched = (rows: { i: string }[], count: number): boolean[] => {
  const hit = new Array<boolean>(count).fill(false);
  for (const r of rows) hit[Number(r.i) - 1] = true;
  return hit;
};

/** One writer per kind; a job appears at most once per group (`key`). */
export class GroupedWrites {
  readonly finish: GroupWriter<FinishWrite>;
  readonly progress: GroupWriter<ProgressWrite>;
  readonly extend: GroupWriter<ExtendWrite>;
  readonly create: GroupWriter<CreateWrite>;

  constructor(ctx: PgContext) {
    this.finish = new GroupWriter<FinishWrite>({
      key: (w) => w.lease.job_id,
      run: async (ws) => {
        const rows = await ctx.rows<GroupedRow>(ctx.sql.finishMany, [
          ws.map((w) => w.lease.job_id),
          ws.map((w) => w.lease.lease_token),
          ws.map((w) => w.kind),
          ws.map((w) => w.results),
          ws.map((w) => w.error),
          ws.map((w) => w.logs),
          ws.map((w) => w.retryAt),
          ctx.limits.maxLogEntries,
        ]);
        if (rows.length) ctx.publishChanges(rows, rows[0]?.batch_changes);
        return matched(rows, ws.length);
      },
    });

    this.progress = new GroupWriter<ProgressWrite>({
      key: (w) => w.lease.job_id,
      run: async (ws) => {
        const rows = await ctx.rows<GroupedRow>(ctx.sql.progressMany, [
          ws.map((w) => w.lease.job_id),
          ws.map((w) => w.lease.lease_token),
          ws.map((w) => w.step),
          ws.map((w) => w.percent),
          ws.map((w) => w.message),
        ]);
        if (rows.length) ctx.publishChanges(rows, rows[0]?.batch_changes);
        return matched(rows, ws.length);
      },
    });

    this.extend = new GroupWriter<ExtendWrite>({
      run: async (ws) => {
        const ids: string[] = [];
        const tokens: string[] = [];
        const owners: string[] = [];
        const ms: number[] = [];
        for (const w of ws) {
          for (const l of w.leases) {
            ids.push(l.job_id);
            tokens.push(l.lease_token);
            owners.push(w.owner);
            ms.push(w.leaseMs);
          }
        }
        const rows = await ctx.rows<{ job_id: string; token: string; owner: string }>(
          ctx.sql.extendMany,
          [ids, tokens, owners, ms],
        );
        const renewed = new Set(rows.map((r) => `${r.owner}\u0000${r.job_id}\u0000${r.token}`));
        // Per call: the job ids whose lease was NOT renewed.
        return ws.map((w) =>
          w.leases
            .filter((l) => !renewed.has(`${w.owner}\u0000${l.job_id}\u0000${l.lease_token}`))
            .map((l) => l.job_id),
        );
      },
    });

    this.create = new GroupWriter<CreateWrite>({
      // Two creates with one external_id must not share a statement: the second must find the first.
      key: (w) => w.job.external_id,
      run: async (ws) => {
        const payload = JSON.stringify(ws.map((w) => jobInsertValue(w.job, w.runAt)));
        const rows = await ctx.rows<InsertedRow>(ctx.sql.insertJob, [payload]);
        if (rows.length) ctx.publishChanges(rows, rows[0]?.batch_changes);
        const byId = new Map(rows.map((r) => [r.job_id, r]));
        return ws.map((w) => {
          const r = byId.get(w.job.job_id);
          return r ? rowToJob(r) : null;
        });
      },
    });
  }

  /** Waits for every queued and in-flight group. */
  async drain(): Promise<void> {
    await Promise.all([
      this.finish.drain(),
      this.progress.drain(),
      this.extend.drain(),
      this.create.drain(),
    ]);
  }
}
