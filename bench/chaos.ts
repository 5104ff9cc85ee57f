/**
 * Chaos test: 3 worker processes drain N jobs whose handlers sleep randomly while a controller
 * SIGKILLs and restarts a random worker every few seconds. At the end every job must be
 * terminal and none lost; duplicate executions are counted and explained (each must be a job
 * whose earlier run was on a killed process).
 *   npm run chaos -- [--store <url>] [--jobs 2000] [--kill-every-ms 2000]
 * Prints one JSON line on stdout; exits 1 if a job was lost or a duplicate is unexplained.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, storeKind } from '../src/store/create-store.js';
import { argValue, note } from './lib/bench-store.js';

const jobs = Number(argValue('--jobs') ?? 2000);
const killEvery = Number(argValue('--kill-every-ms') ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'secretary-chaos-'));
const given = argValue('--store');
const schema = `chaos_${randomBytes(4).toString('hex')}`;
const url = given ? (storeKind(given) === 'postgres' ? `${given}${given.includes('?') ? '&' : '?'}schema=${schema}` : given) : `sqlite:${join(dir, 'chaos.db')}`;
const log = join(dir, 'exec.log');
writeFileSync(log, '');

const store = await createStore({ url });
for (let i = 0; i < jobs; i += 500) {
  await store.createJobs(Array.from({ length: Math.min(500, jobs - i) }, () => ({ job_type: 'chaos', max_attempts: 10 })));
}
const worker = join(import.meta.dirname, 'lib', 'chaos-worker.ts');
const killed = new Set<number>();
const spawnWorker = (): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker], {
      env: { ...process.env, STORE_URL: url, LOG: log },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.once('error', reject);
    child.stdout!.once('data', () => resolve(child));
  });

const workers: ChildProcess[] = await Promise.all([spawnWorker(), spawnWorker(), spawnWorker()]);
let kills = 0;
const openCount = async (): Promise<number> =>
  (await store.stats()).by_status.filter((s) => s.status === 'pending' || s.status === 'processing').reduce((a, s) => a + s.count, 0);

const started = Date.now();
let lastNote = 0;
for (;;) {
  await new Promise((r) => setTimeout(r, killEvery));
  const open = await openCount();
  if (Date.now() - lastNote > 5000) {
    note(`chaos: ${open} jobs open, ${kills} kills, ${Math.round((Date.now() - started) / 1000)} s`);
    lastNote = Date.now();
  }
  if (open === 0) break;
  if (Date.now() - started > 600_000) {
    note('chaos: giving up after 10 minutes');
    break;
  }
  const i = Math.floor(Math.random() * workers.length);
  const victim = workers[i]!;
  killed.add(victim.pid!);
  victim.kill('SIGKILL');
  kills++;
  workers[i] = await spawnWorker();
}
for (const w of workers) w.kill('SIGKILL');

const starts = new Map<string, number[]>();
for (const line of readFileSync(log, 'utf8').split('\n')) {
  const [id, pid] = line.split(' ');
  if (id && pid) starts.set(id, [...(starts.get(id) ?? []), Number(pid)]);
}
let completed = 0;
let failed = 0;
let lost = 0;
let attemptsOk = true;
let cursor: string | null = null;
do {
  const page = await store.listJobs({ job_type: 'chaos' }, { limit: 1000, cursor });
  for (const j of page.items) {
    if (j.status === 'completed') completed++;
    else if (j.status === 'failed') failed++;
    else lost++;
    const runs = starts.get(j.job_id)?.length ?? 0;
    if (j.attempts < runs || j.attempts === 0) attemptsOk = false;
  }
  cursor = page.next_cursor;
} while (cursor);
let duplicates = 0;
let unexplained = 0;
for (const pids of starts.values()) {
  if (pids.length < 2) continue;
  duplicates++;
  // every run but the last must have been on a process that was killed
  if (!pids.slice(0, -1).every((p) => killed.has(p))) unexplained++;
}
await store.close();
if (storeKind(url) === 'postgres') {
  const pg = await import('pg');
  const c = new pg.default.Client({ connectionString: given });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'chaos',
    store: storeKind(url),
    jobs,
    workers: 3,
    kills,
    completed,
    failed,
    lost,
    duplicates,
    duplicates_unexplained: unexplained,
    attempts_accounted: attemptsOk,
    seconds: Math.round((Date.now() - started) / 1000),
  }),
);
process.exit(lost === 0 && unexplained === 0 && attemptsOk ? 0 : 1);
