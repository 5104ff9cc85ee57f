/**
 * Scale-out as a user runs it: an API-only process (`serve --no-worker`) and a separate
 * `secretary worker` process on one PostgreSQL store. Proves that an SSE stream served by one
 * process sees a job run by another, and that a cancel sent to the API aborts the job in the
 * worker process at once (the worker's heartbeat is set to a minute, so only the pushed event
 * can free its single slot in time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, freshSchemaName, postgresUnavailable, withSchema } from '../helpers/postgres.js';

const skip = await postgresUnavailable();
const bin = join(import.meta.dirname, '..', '..', 'bin', 'secretary.js');
const children: ChildProcess[] = [];
const schema = freshSchemaName();
let home: string;
let base: string;

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const start = (args: string[], env: Record<string, string>): ChildProcess => {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
};

const json = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

const waitFor = async <T>(fn: () => Promise<T | null>, ms = 30_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.skipIf(Boolean(skip))(`scale-out on PostgreSQL${skip ? ` — skipped: ${skip}` : ''}`, () => {
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'secretary-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      SECRETARY_STORE_URL: withSchema(schema),
      SECRETARY__GENERIC_WORKER__MAX_CONCURRENT: '1',
      SECRETARY__GENERIC_WORKER__LEASE_SEC: '120',
      SECRETARY__GENERIC_WORKER__HEARTBEAT_SEC: '60',
      SECRETARY__GENERIC_WORKER__POLL_INTERVAL_SEC: '60',
    };
    start(['serve', '--no-worker', '--home', home, '--port', String(port)], env);
    await waitFor(async () => (await fetch(`${base}/api/health/live`)).ok || null);
    start(['worker', '--home', home], env);
  }, 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await dropSchema(schema);
    rmSync(home, { recursive: true, force: true });
  });

  it('an SSE stream on the API process follows a job run by the worker process', async () => {
    const { status, body } = await json('/api/jobs', { method: 'POST', body: JSON.stringify({ job_type: 'echo', parameters: { steps: 3, sleep_ms: 3000 } }) });
    expect(status).toBe(202);
    const id = body.data.job_id as string;
    const res = await fetch(`${base}/api/jobs/${id}/stream`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const text = await res.text(); // the stream closes after the terminal event
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toContain('progress');
    expect(events[events.length - 1]).toBe('completed');
    const done = JSON.parse(/event: completed\ndata: (.*)\n/.exec(text)![1]!) as Record<string, any>;
    expect(done.process.id).toBe(id);
  }, 60_000);

  it('a cancel sent to the API aborts the job in the worker process at once', async () => {
    const long = (await json('/api/jobs', { method: 'POST', body: JSON.stringify({ job_type: 'echo', parameters: { sleep_ms: 600_000 } }) })).body.data.job_id as string;
    await waitFor(async () => ((await json(`/api/jobs/${long}`)).body.data.status === 'processing' ? true : null));
    const cancel = await json(`/api/jobs/${long}/cancel`, { method: 'POST', body: '{}' });
    expect(cancel.status).toBe(200);
    // the worker has one slot; the next job can only start if the cancel event freed it
    const next = (await json('/api/jobs', { method: 'POST', body: JSON.stringify({ job_type: 'echo', parameters: { message: 'after' } }) })).body.data.job_id as string;
    const finished = await waitFor(async () => {
      const j = (await json(`/api/jobs/${next}`)).body.data;
      return j.status === 'completed' ? j : null;
    }, 30_000);
    expect(finished.results.echo.message).toBe('after');
    expect((await json(`/api/jobs/${long}`)).body.data.status).toBe('cancelled');
  }, 60_000);
});
