/** Retention against a real SQLite store and real files in a temp cache. */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetentionSweeper, ownedPaths, touchCacheEntry } from '../../src/files/retention.js';
import type { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { openSqlite, tempDir } from '../helpers/worker-fixtures.js';

let t: { dir: string; cleanup: () => void };
let store: SqliteJobStore;
let cache: string;
const DAY = 86_400_000;
const logs: string[] = [];
const logger = {
  info: (_o: object, m: string) => logs.push(m),
  error: (_o: object, m: string) => logs.push(m),
};

beforeEach(async () => {
  t = tempDir('secretary-retention-');
  cache = join(t.dir, 'cache');
  store = await openSqlite(join(t.dir, 'q.db'));
});
afterEach(async () => {
  await store.close();
  t.cleanup();
});

const put = (rel: string, ageDays = 0): string => {
  const p = join(cache, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, 'x');
  if (ageDays) {
    const when = new Date(Date.now() - ageDays * DAY);
    utimesSync(p, when, when);
    utimesSync(join(p, '..'), when, when);
  }
  return p;
};

/** Runs a job through claim and finish, so it is a real finished job of the store. */
const finishedJob = async (
  parameters: Record<string, unknown>,
  results: (id: string) => Record<string, unknown>,
) => {
  const { job } = await store.createJob({ job_type: 'pdf', parameters });
  const [claimed] = await store.claim({ owner: 'w', limit: 1, types: { pdf: 1 }, leaseMs: 10_000 });
  expect(claimed?.job_id).toBe(job.job_id);
  await store.complete(
    { job_id: claimed!.job_id, lease_token: claimed!.lease_token },
    results(job.job_id),
  );
  return job.job_id;
};

describe('retention', () => {
  it('names the files a job owns: its upload and the folders named after it, nothing shared', () => {
    const owned = ownedPaths(cache, {
      job_id: 'job-1',
      parameters: { upload_path: 'cache/uploads/upload_a.pdf', url: null },
      results: {
        target_dir: 'cache/pdf/abc/jobs/job-1',
        page_texts: ['/api/pdf/text-content/cache/pdf/abc/jobs/job-1/page_001.txt'],
        shared: 'cache/pdf/abc/native_12345678/page_001.txt',
        evil: 'cache/../../etc/job-1',
      },
    });
    expect(owned.sort()).toEqual(
      [join(cache, 'pdf/abc/jobs/job-1'), join(cache, 'uploads/upload_a.pdf')].sort(),
    );
  });

  it('purges finished jobs past retention with the files they own, never session notes', async () => {
    const upload = put('uploads/upload_old.pdf');
    const id = await finishedJob({ upload_path: 'cache/uploads/upload_old.pdf' }, (jobId) => ({
      target_dir: `cache/pdf/hash1/jobs/${jobId}`,
    }));
    const jobPage = put(`pdf/hash1/jobs/${id}/page_001.txt`);
    const otherJobPage = put('pdf/hash1/jobs/job-other/page_001.txt');
    const download = put(`uploads/download_${id}.pdf`);
    const sessionsNote = join(t.dir, 'sessions', 'Event', 'de', 'Track', 'note.md');
    mkdirSync(join(sessionsNote, '..'), { recursive: true });
    writeFileSync(sessionsNote, '# note');
    const pending = (
      await store.createJob({
        job_type: 'pdf',
        parameters: { upload_path: 'cache/uploads/upload_pending.pdf' },
      })
    ).job;
    const pendingUpload = put('uploads/upload_pending.pdf');

    const report = await new RetentionSweeper({
      store,
      cacheDir: cache,
      days: 30,
      intervalMin: 60,
      logger,
      now: () => Date.now() + 31 * DAY,
    }).runOnce();

    expect(report.jobs).toBe(1);
    expect(await store.getJob(id)).toBeNull();
    expect(await store.getJob(pending.job_id)).not.toBeNull();
    expect(existsSync(upload)).toBe(false);
    expect(existsSync(jobPage)).toBe(false);
    expect(existsSync(download)).toBe(false);
    // another job's folder is not this job's to remove (the cache sweep leaves job folders alone)
    expect(existsSync(otherJobPage)).toBe(true);
    expect(existsSync(pendingUpload)).toBe(true);
    expect(existsSync(sessionsNote)).toBe(true);
  });

  it('keeps cache entries used within the retention period', async () => {
    const oldEntry = put('pdf/h1/native_a/result.json', 40);
    const used = put('pdf/h2/native_b/result.json', 40);
    await touchCacheEntry(join(cache, 'pdf/h2/native_b'));
    const recent = put('media/h3/key.json', 2);
    const report = await new RetentionSweeper({
      store,
      cacheDir: cache,
      days: 30,
      intervalMin: 60,
      logger,
    }).runOnce();
    expect(existsSync(oldEntry)).toBe(false);
    expect(existsSync(used)).toBe(true);
    expect(existsSync(recent)).toBe(true);
    expect(report.cacheEntries).toBe(1);
  });

  it('days: 0 keeps everything', async () => {
    const old = put('pdf/h1/native_a/result.json', 400);
    const report = await new RetentionSweeper({
      store,
      cacheDir: cache,
      days: 0,
      intervalMin: 60,
      logger,
    }).runOnce();
    expect(report).toEqual({ jobs: 0, batches: 0, files: 0, cacheEntries: 0 });
    expect(existsSync(old)).toBe(true);
  });
});
