/**
 * Invariants 1 and 4 across real processes on one SQLite file: two worker processes drain
 * 5,000 jobs with every job executed exactly once; a worker killed with SIGKILL mid-job
 * loses nothing (its jobs finish after lease expiry).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorker, openSqlite, tempDir, waitAllTerminal } from '../helpers/worker-fixtures.js';

const fixture = join(import.meta.dirname, 'fixtures', 'worker-process.ts');
const children: ChildProcess[] = [];

const startWorker = (env: Record<string, string>): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    child.once('error', reject);
    child.stdout!.once('data', () => resolve(child));
  });

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

const executions = (log: string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const id = line.split(' ')[0];
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
};

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('worker processes on one SQLite file', () => {
  it('two processes drain 5,000 jobs, each completed exactly once', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 'q.db');
      const log = join(dir, 'exec.log');
      writeFileSync(log, '');
      const store = await openSqlite(db);
      const jobs = Array.from({ length: 5000 }, () => ({ job_type: 'work' }));
      for (let i = 0; i < jobs.length; i += 1000) await store.createJobs(jobs.slice(i, i + 1000));
      // both start claiming together: a process that is still starting (a loaded CI host) when
      // the other has drained the queue would leave nothing to show that two processes share it
      const go = join(dir, 'go');
      const env = { DB: db, LOG: log, EXIT_WHEN_IDLE: '1', CONCURRENCY: '20', LEASE_MS: '10000', GO_FILE: go };
      const [a, b] = await Promise.all([startWorker(env), startWorker(env)]);
      writeFileSync(go, '');
      expect(await exited(a!)).toBe(0);
      expect(await exited(b!)).toBe(0);
      const counts = executions(log);
      expect(counts.size).toBe(5000);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      const s = await store.stats();
      expect(s.by_status).toEqual([{ job_type: 'work', status: 'completed', count: 5000 }]);
      const pids = new Set(readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[1]));
      expect(pids.size).toBe(2);
      await store.close();
    } finally {
      cleanup();
    }
  }, 120_000);

  it('a worker killed with SIGKILL mid-job loses nothing: its jobs finish after lease expiry', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 'q.db');
      const log = join(dir, 'exec.log');
      writeFileSync(log, '');
      const store = await openSqlite(db);
      const created = await store.createJobs(Array.from({ length: 20 }, () => ({ job_type: 'work', max_attempts: 3 })));
      const victim = await startWorker({ DB: db, LOG: log, SLEEP_MS: '60000', LEASE_MS: '800', CONCURRENCY: '5' });
      // wait until the victim runs 5 jobs, then kill it without any chance to clean up
      for (let i = 0; i < 200 && executions(log).size < 5; i++) await new Promise((r) => setTimeout(r, 25));
      const killedIds = [...executions(log).keys()];
      expect(killedIds.length).toBe(5);
      victim.kill('SIGKILL');
      await exited(victim);
      // a fresh worker in this process picks everything up, including the orphaned jobs
      const worker = makeWorker(store, [{ type: 'work', handler: async () => ({ ok: true }) }], { leaseMs: 800 });
      worker.start();
      await waitAllTerminal(store, 30_000);
      await worker.stop(1000);
      for (const j of created) {
        const job = (await store.getJob(j.job_id))!;
        expect(job.status).toBe('completed');
        expect(job.attempts).toBe(killedIds.includes(j.job_id) ? 2 : 1);
        if (killedIds.includes(j.job_id)) {
          expect(job.logs.some((l) => l.message.includes('lease expired'))).toBe(true);
        }
      }
      await store.close();
    } finally {
      cleanup();
    }
  }, 60_000);
});
