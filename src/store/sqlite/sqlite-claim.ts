/** The atomic claim of the SQLite store (runs inside `BEGIN IMMEDIATE`). */
import type { ClaimedJob } from '../../core/job.js';
import { newLeaseToken } from '../../core/ids.js';
import type { ClaimRequest } from '../job-store.js';
import { jobChange } from '../store-shared.js';
import { arrayToClaimedJob, CLAIM_COLUMNS } from './rows.js';
import type { SqliteContext } from './sqlite-context.js';

interface Candidate {
  seq: number;
  priority: number;
  run_at: number;
}

/** `?, ?, ?` for an IN list (statements are cached per length; lists are at most a claim's limit). */
const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * SQL text per IN-list length, built once: statements are cached by their text, and text
 * built on every claim costs a fresh concatenation and hash each time.
 */
const perLength = (build: (inList: string) => string): ((n: number) => string) => {
  const built: string[] = [];
  return (n) => (built[n] ??= build(placeholders(n)));
};

const CLAIM_SELECT = CLAIM_COLUMNS.join(', ');

const candidatesSql = perLength(
  (types) => `SELECT seq, priority, run_at FROM jobs INDEXED BY jobs_claim
   WHERE status = 'pending' AND run_at <= ? AND job_type IN (${types})
   ORDER BY priority DESC, run_at, seq LIMIT ?`,
);
const CAPPED_CANDIDATES_SQL = `SELECT seq, priority, run_at FROM jobs INDEXED BY jobs_claim
   WHERE status = 'pending' AND job_type = ? AND run_at <= ?
   ORDER BY priority DESC, run_at, seq LIMIT ?`;
const leaseSql = perLength(
  (seqs) => `UPDATE jobs SET status = 'processing', lease_owner = ?, lease_token = ?,
     lease_expires_at = ?, processing_started_at = ?, updated_at = ?,
     attempts = attempts + 1, progress = NULL, version = version + 1
   WHERE seq IN (${seqs}) AND status = 'pending'`,
);
const claimedSql = perLength(
  (seqs) => `SELECT ${CLAIM_SELECT} FROM jobs WHERE seq IN (${seqs}) AND lease_token = ?`,
);

const byQueueOrder = (a: Candidate, b: Candidate): number =>
  b.priority - a.priority || a.run_at - b.run_at || a.seq - b.seq;

/** Free room per type: the caller's local room, capped by the cluster-wide limit. */
const roomPerType = (ctx: SqliteContext, req: ClaimRequest): Map<string, number> => {
  const room = new Map<string, number>();
  for (const [type, localRoom] of Object.entries(req.types)) {
    let allowed = Math.min(localRoom, req.limit);
    const cap = req.clusterLimits?.[type];
    if (cap !== undefined) {
      const running = (
        ctx
          .stmt(
            `SELECT count(*) AS n FROM jobs INDEXED BY jobs_lease WHERE status = 'processing' AND job_type = ?`,
          )
          .get(type) as {
          n: number;
        }
      ).n;
      allowed = Math.min(allowed, cap - running);
    }
    if (allowed > 0) room.set(type, allowed);
  }
  return room;
};

const pickCandidates = (
  ctx: SqliteContext,
  room: Map<string, number>,
  limit: number,
  now: number,
): Candidate[] => {
  const free: string[] = [];
  const capped: [string, number][] = [];
  for (const [type, r] of room) {
    if (r >= limit) free.push(type);
    else capped.push([type, r]);
  }
  const rows: Candidate[] = [];
  if (free.length) {
    rows.push(...(ctx.stmt(candidatesSql(free.length)).all(now, ...free, limit) as Candidate[]));
  }
  for (const [type, r] of capped) {
    rows.push(...(ctx.stmt(CAPPED_CANDIDATES_SQL).all(type, now, r) as Candidate[]));
  }
  if (capped.length === 0 || (free.length === 0 && capped.length === 1)) return rows;
  return rows.sort(byQueueOrder).slice(0, limit);
};

export const claimJobs = (ctx: SqliteContext, req: ClaimRequest): ClaimedJob[] => {
  if (req.limit <= 0) return [];
  const now = Date.now();
  const room = roomPerType(ctx, req);
  if (room.size === 0) return [];
  const candidates = pickCandidates(ctx, room, req.limit, now);
  if (candidates.length === 0) return [];
  const seqs = candidates.map((c) => c.seq);
  const token = newLeaseToken();
  ctx.stmt(leaseSql(seqs.length)).run(req.owner, token, now + req.leaseMs, now, now, ...seqs);
  // A separate read in raw (array) mode: converting wide rows to objects (or RETURNING *) costs
  // several times more than the update itself. Rows come back in rowid order; the jobs are
  // handed out in queue order (the candidates' order).
  const rows = ctx.rawStmt(claimedSql(seqs.length)).all(...seqs, token) as unknown[][];
  const position = new Map<number, number>();
  seqs.forEach((seq, i) => position.set(seq, i));
  rows.sort((x, y) => position.get(x[0] as number)! - position.get(y[0] as number)!);
  const perBatch = new Map<string, number>();
  const wrote = {
    owner: req.owner,
    token,
    now: new Date(now).toISOString(),
    leaseExpires: new Date(now + req.leaseMs).toISOString(),
  };
  const jobs = rows.map((a) => {
    const job = arrayToClaimedJob(a, wrote);
    if (job.batch_id) perBatch.set(job.batch_id, (perBatch.get(job.batch_id) ?? 0) + 1);
    ctx.held.set(job.job_id, {
      token,
      seq: a[0] as number,
      job_type: job.job_type,
      batch_id: job.batch_id,
      user_id: job.user_id,
      webhook: job.webhook !== null,
      version: job.version,
    });
    ctx.emit({ type: 'job', change: jobChange(job) });
    return job;
  });
  for (const [batchId, n] of perBatch) ctx.moveBatch(batchId, 'pending', 'processing', now, n);
  return jobs;
};
