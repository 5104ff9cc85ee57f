/**
 * SQLite-only: a database written by an older version is migrated in place at start, keeps
 * its jobs, and lists and purges them through the new indexes.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const indexNames = (path: string): string[] => {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL`,
        )
        .all() as { name: string }[]
    )
      .map((r) => r.name)
      .sort();
  } finally {
    db.close();
  }
};

describe('SQLite migrations', () => {
  it('upgrades a version-1 database in place: jobs kept, status lists and purge still right', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretary-migrate-'));
    dirs.push(dir);
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(SQLITE_MIGRATIONS[0]!.sql);
    old.pragma('user_version = 1');
    const insert = old.prepare(
      `INSERT INTO jobs (job_id, job_type, status, parameters, created_at, updated_at, completed_at, access_control, run_at)
       VALUES (?, 't', ?, '{}', ?, ?, ?, '{}', ?)`,
    );
    const longAgo = Date.now() - 86_400_000;
    insert.run('job-done', 'completed', longAgo, longAgo, longAgo, longAgo);
    insert.run('job-failed', 'failed', longAgo + 1, longAgo + 1, longAgo + 1, longAgo + 1);
    insert.run('job-open', 'pending', longAgo + 2, longAgo + 2, null, longAgo + 2);
    old.close();
    expect(indexNames(path)).toContain('jobs_status_seq');

    const store = new SqliteJobStore({ path });
    await store.init();
    try {
      const names = indexNames(path);
      expect(names).not.toContain('jobs_status_seq');
      expect(names).not.toContain('jobs_completed');
      expect(names).toEqual(
        expect.arrayContaining([
          'jobs_failed_seq',
          'jobs_cancelled_seq',
          'jobs_claim',
          'jobs_lease',
        ]),
      );
      expect((await store.listJobs({ status: 'failed' })).items.map((j) => j.job_id)).toEqual([
        'job-failed',
      ]);
      expect(
        (await store.listJobs({ status: ['completed', 'pending'] })).items.map((j) => j.job_id),
      ).toEqual(['job-open', 'job-done']);
      const purged = await store.purgeFinished(new Date(Date.now() - 1000).toISOString());
      expect(purged.jobs.map((j) => j.job_id).sort()).toEqual(['job-done', 'job-failed']);
      expect((await store.listJobs({})).items.map((j) => j.job_id)).toEqual(['job-open']);
    } finally {
      await store.close();
    }
    // a second start applies nothing twice
    const again = new SqliteJobStore({ path });
    await again.init();
    await again.close();
  });

  it('purge walks past old jobs that must stay and stops at jobs created after the cutoff', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretary-purge-'));
    dirs.push(dir);
    const store = new SqliteJobStore({ path: join(dir, 'p.db') });
    await store.init();
    try {
      // more than one scan chunk (500) of old jobs that stay, then purgeable ones behind them
      const stay = await store.createJobs(
        Array.from({ length: 700 }, () => ({ job_type: 'stay' })),
      );
      const gone = await store.createJobs(Array.from({ length: 5 }, () => ({ job_type: 'gone' })));
      for (const r of gone) await store.cancelJob(r.job_id);
      await new Promise((r) => setTimeout(r, 10));
      const cutoff = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 10));
      const late = await store.createJobs([{ job_type: 'late' }]);
      await store.cancelJob(late[0]!.job_id);
      const res = await store.purgeFinished(cutoff, 3);
      expect(res.jobs).toHaveLength(3);
      const rest = await store.purgeFinished(cutoff);
      expect([...res.jobs, ...rest.jobs].map((j) => j.job_id).sort()).toEqual(
        gone.map((r) => r.job_id).sort(),
      );
      expect(await store.getJob(late[0]!.job_id)).not.toBeNull();
      expect(await store.getJob(stay[0]!.job_id)).not.toBeNull();
    } finally {
      await store.close();
    }
  });
});
