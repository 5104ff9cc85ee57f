/**
 * Retention (DESIGN §7; the original kept jobs, uploads and work dirs forever, W20).
 *
 * Every `retention.interval_min`, in every worker process:
 * 1. finished jobs older than `retention.days` are purged from the store, with the files only
 *    they own: their upload (`upload_path`), their URL download (`download_<job_id>…`) and any
 *    per-job directory their results name (`…/jobs/<job_id>/`, `…/<job_id>/`);
 * 2. content-addressed cache entries (`cache/pdf/<hash>/<variant>`, `cache/office/…`,
 *    `cache/media/…`, `cache/llm/…`, …), which jobs with the same input share, are removed once
 *    nothing wrote or used them for `retention.days` (a cache hit touches its entry).
 * Session notes under `sessions/` are the users' documents and are never touched.
 *
 * Purges are atomic in the store and removing a file twice is harmless, so several processes
 * may sweep at once. The loop never throws: a failed round is logged and tried again later.
 */
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { coerceError } from '../core/errors.js';
import type { JobStore } from '../store/job-store.js';
import { isInside } from './safe-path.js';

/** Shared cache areas and the depth of their entries below the area folder. */
const AREAS: ReadonlyArray<[string, number]> = [
  ['pdf', 2],
  ['office', 2],
  ['imageocr', 2],
  ['media', 2],
  ['llm', 2],
  ['session', 1],
  ['event_summary', 1],
  ['tmp', 1],
];

/** Per-job folders inside shared areas belong to their job, not to the cache sweep. */
const JOB_OWNED = 'jobs';

export interface RetentionReport {
  jobs: number;
  batches: number;
  files: number;
  cacheEntries: number;
}

export interface RetentionLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RetentionOptions {
  store: JobStore;
  cacheDir: string;
  /** Finished jobs and unused cache entries older than this are removed; 0 keeps everything. */
  days: number;
  intervalMin: number;
  logger: RetentionLogger;
  now?: () => number;
}

/** Marks a cache entry as used now, so the sweep keeps it while jobs keep hitting it. */
export const touchCacheEntry = async (path: string): Promise<void> => {
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
};

/** `cache/<rel>` values in a job's parameters and results, deep. */
const cachePaths = (value: unknown, out: string[] = [], depth = 0): string[] => {
  if (depth > 6) return out;
  if (typeof value === 'string') {
    if (value.startsWith('cache/') && !value.includes('..')) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) cachePaths(v, out, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) cachePaths(v, out, depth + 1);
  }
  return out;
};

/** What a purged job owns: its upload and the folders named after it. */
export const ownedPaths = (
  cacheDir: string,
  job: {
    job_id: string;
    parameters: Record<string, unknown>;
    results: Record<string, unknown> | null;
  },
): string[] => {
  const root = resolve(cacheDir);
  const abs = (rel: string) => resolve(root, rel.slice('cache/'.length));
  const owned = new Set<string>();
  const upload = job.parameters.upload_path;
  if (typeof upload === 'string' && upload.startsWith('cache/uploads/')) owned.add(abs(upload));
  for (const rel of cachePaths(job.results)) {
    const parts = rel.split('/');
    const at = parts.indexOf(job.job_id);
    if (at > 1) owned.add(abs(parts.slice(0, at + 1).join('/')));
  }
  return [...owned].filter((p) => isInside(root, p) && p !== root);
};

const mtimeMs = async (path: string): Promise<number | null> =>
  stat(path).then(
    (s) => s.mtimeMs,
    () => null,
  );

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionReport> | null = null;

  constructor(private readonly opts: RetentionOptions) {}

  start(): void {
    if (this.opts.days <= 0 || this.timer) return;
    const every = Math.max(1, this.opts.intervalMin) * 60_000;
    // first round soon after start (not at once: start-up has other work), then periodically
    this.timer = setTimeout(
      function tick(this: RetentionSweeper) {
        void this.runOnce().finally(() => {
          if (this.timer) this.timer = setTimeout(tick.bind(this), every).unref();
        });
      }.bind(this),
      Math.min(every, 30_000),
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One round: purge old jobs with their files, then sweep unused cache entries. Never throws. */
  runOnce(): Promise<RetentionReport> {
    this.running ??= this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async round(): Promise<RetentionReport> {
    const report: RetentionReport = { jobs: 0, batches: 0, files: 0, cacheEntries: 0 };
    if (this.opts.days <= 0) return report;
    const cutoff = (this.opts.now?.() ?? Date.now()) - this.opts.days * 86_400_000;
    try {
      for (;;) {
        const purged = await this.opts.store.purgeFinished(new Date(cutoff).toISOString(), 500);
        report.jobs += purged.jobs.length;
        report.batches += purged.batches;
        for (const job of purged.jobs) {
          for (const p of ownedPaths(this.opts.cacheDir, job)) {
            await rm(p, { recursive: true, force: true });
            report.files++;
          }
          report.files += await this.removeDownloads(job.job_id);
        }
        if (purged.jobs.length < 500) break;
      }
      for (const [area, depth] of AREAS) {
        report.cacheEntries += await this.sweep(join(this.opts.cacheDir, area), depth, cutoff);
      }
      if (report.jobs || report.cacheEntries) {
        this.opts.logger.info(
          { ...report, days: this.opts.days },
          'retention: removed old jobs and cache entries',
        );
      }
    } catch (err) {
      this.opts.logger.error(
        { err: coerceError(err) },
        'retention round failed; trying again at the next interval',
      );
    }
    return report;
  }

  /** URL downloads are stored as `uploads/download_<job_id><ext>`. */
  private async removeDownloads(jobId: string): Promise<number> {
    const dir = join(this.opts.cacheDir, 'uploads');
    const names = await readdir(dir).catch(() => [] as string[]);
    const mine = names.filter((n) => n.startsWith(`download_${jobId}`));
    await Promise.all(mine.map((n) => rm(join(dir, n), { force: true, recursive: true })));
    return mine.length;
  }

  /** Removes entries `depth` levels below `dir` untouched since `cutoff`; then empty folders. */
  private async sweep(dir: string, depth: number, cutoff: number): Promise<number> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    let removed = 0;
    for (const e of entries) {
      const path = join(dir, e.name);
      if (depth > 1 && e.isDirectory()) {
        if (e.name === JOB_OWNED) continue;
        removed += await this.sweep(path, depth - 1, cutoff);
        if ((await readdir(path).catch(() => ['?'])).length === 0)
          await rm(path, { recursive: true, force: true });
      } else if (depth === 1 || !e.isDirectory()) {
        const m = await mtimeMs(path);
        if (m !== null && m < cutoff && !path.endsWith(`${sep}${JOB_OWNED}`)) {
          await rm(path, { recursive: true, force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
