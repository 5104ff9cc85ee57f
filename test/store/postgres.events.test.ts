/**
 * PostgreSQL-only: events across store instances (LISTEN/NOTIFY), no duplicates of a process's
 * own events, payload limits, listener reconnect, and work without a listener.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/store/job-store.js';
import { encodeNotifications, MAX_NOTIFY_BYTES } from '../../src/store/postgres/notifications.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { eventually, leaseOf, recordEvents, sleep, WEBHOOK } from '../helpers/store-fixtures.js';
import { postgresUnavailable, postgresUrl } from '../helpers/postgres.js';

const url = postgresUrl;
const skip = await postgresUnavailable();
if (skip) console.warn(`PostgreSQL tests skipped: ${skip}`);

const jobStatuses = (events: StoreEvent[], jobId: string): string[] =>
  events.flatMap((e) => (e.type === 'job' && e.change.job_id === jobId ? [e.change.status] : []));

describe.skipIf(skip)(`PostgreSQL events${skip ? ` — skipped: ${skip}` : ''}`, () => {
  const schema = `secretary_test_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  let opened: PostgresJobStore[] = [];

  const open = async (
    opts: Partial<ConstructorParameters<typeof PostgresJobStore>[0]> = {},
  ): Promise<PostgresJobStore> => {
    const store = new PostgresJobStore({ url, schema, poolSize: 4, ...opts });
    opened.push(store);
    await store.init();
    return store;
  };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  afterEach(async () => {
    for (const s of opened.reverse()) await s.close();
    opened = [];
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('delivers changes of one instance to another, and each event once to its own process', async () => {
    const a = await open();
    const b = await open();
    expect(a.listening && b.listening).toBe(true);
    const atA = recordEvents(a);
    const atB = recordEvents(b);
    const { job } = await a.createJob({ job_type: 'x-proc', user_id: 'u1', webhook: WEBHOOK });
    expect(
      await eventually(() =>
        atB.events.some((e) => e.type === 'enqueued' && e.job_types.includes('x-proc')),
      ),
    ).toBe(true);

    const [claimed] = await b.claim({
      owner: 'B',
      limit: 1,
      types: { 'x-proc': 1 },
      leaseMs: 30_000,
    });
    expect(claimed?.job_id).toBe(job.job_id);
    await b.updateProgress(leaseOf(claimed!), { step: 'half', percent: 50, message: 'm' });
    await b.complete(leaseOf(claimed!), { big: 'r'.repeat(100_000) });
    expect(await eventually(() => jobStatuses(atA.events, job.job_id).includes('completed'))).toBe(
      true,
    );
    expect(await eventually(() => atA.events.some((e) => e.type === 'outbox'))).toBe(true);
    await sleep(100);
    // Each process sees every change exactly once: its own in-process, the other's by NOTIFY.
    expect(jobStatuses(atA.events, job.job_id)).toEqual([
      'pending',
      'processing',
      'processing',
      'completed',
    ]);
    expect(jobStatuses(atB.events, job.job_id)).toEqual([
      'pending',
      'processing',
      'processing',
      'completed',
    ]);
    const progressAtA = atA.events.find(
      (e) => e.type === 'job' && e.change.progress?.percent === 50,
    );
    expect(progressAtA?.type === 'job' ? progressAtA.change : null).toMatchObject({
      job_id: job.job_id,
      job_type: 'x-proc',
      user_id: 'u1',
      progress: { step: 'half', percent: 50, message: 'm' },
    });
  });

  it('delivers batch changes, and claims of many jobs, to another instance', async () => {
    const a = await open();
    const b = await open();
    const atB = recordEvents(b);
    const { batch, jobs } = await a.createBatch({
      jobs: Array.from({ length: 60 }, () => ({ job_type: 'bx' })),
    });
    const claimed = await a.claim({ owner: 'A', limit: 60, types: { bx: 60 }, leaseMs: 30_000 });
    expect(claimed).toHaveLength(60);
    await Promise.all(claimed.map((c) => a.complete(leaseOf(c), {})));
    const batchStatuses = (): string[] =>
      atB.events.flatMap((e) =>
        e.type === 'batch' && e.batch_id === batch.batch_id ? [e.status] : [],
      );
    expect(await eventually(() => batchStatuses().includes('completed'))).toBe(true);
    expect(batchStatuses()).toEqual(['pending', 'processing', 'completed']);
    for (const j of jobs)
      expect(jobStatuses(atB.events, j.job_id)).toEqual(['pending', 'processing', 'completed']);
  });

  it('keeps NOTIFY payloads under the server limit (a huge progress message is cut remotely, whole locally)', async () => {
    const a = await open();
    const b = await open();
    const atA = recordEvents(a);
    const atB = recordEvents(b);
    await a.createJob({ job_type: 'huge' });
    const [c] = await a.claim({ owner: 'A', limit: 1, types: { huge: 1 }, leaseMs: 30_000 });
    const message = 'ü'.repeat(20_000);
    expect(await a.updateProgress(leaseOf(c!), { step: 'big', percent: 10, message })).toBe(true);
    const remote = (): string | null | undefined => {
      const e = atB.events.find((x) => x.type === 'job' && x.change.progress?.step === 'big');
      return e?.type === 'job' ? e.change.progress?.message : undefined;
    };
    expect(await eventually(() => remote() !== undefined)).toBe(true);
    expect(remote()).toBe('ü'.repeat(1000));
    const local = atA.events.find((x) => x.type === 'job' && x.change.progress?.step === 'big');
    expect(local?.type === 'job' ? local.change.progress?.message : null).toBe(message);

    const events: StoreEvent[] = Array.from({ length: 200 }, (_, i) => ({
      type: 'enqueued',
      job_types: [`type-${i}`],
    }));
    const payloads = encodeNotifications('o', events);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(MAX_NOTIFY_BYTES);
  });

  it('reconnects the LISTEN connection when it drops and delivers again', async () => {
    const a = await open();
    const b = await open();
    const pid = b.listenerPid;
    expect(pid).not.toBeNull();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    expect(await eventually(() => b.listening && b.listenerPid !== pid, 10_000)).toBe(true);
    const atB = recordEvents(b);
    await a.createJob({ job_type: 'after-reconnect' });
    expect(
      await eventually(() =>
        atB.events.some((e) => e.type === 'enqueued' && e.job_types.includes('after-reconnect')),
      ),
    ).toBe(true);
  });

  it('keeps working without a LISTEN connection (a pooler that drops LISTEN): no remote events, no errors', async () => {
    const errors: Error[] = [];
    const deaf = await open({
      listenUrl: 'postgres://postgres@127.0.0.1:1/none',
      onEventsError: (e) => errors.push(e),
    });
    const a = await open();
    expect(deaf.listening).toBe(false);
    const atDeaf = recordEvents(deaf);
    await a.createJob({ job_type: 'unheard' });
    const [c] = await deaf.claim({ owner: 'D', limit: 1, types: { unheard: 1 }, leaseMs: 30_000 });
    expect(c).toBeDefined();
    expect(await deaf.complete(leaseOf(c!), {})).toBe(true);
    await sleep(100);
    // Its own changes are still published in-process; the other instance's are not heard.
    expect(
      atDeaf.events
        .filter((e) => e.type === 'job')
        .map((e) => (e.type === 'job' ? e.change.status : '')),
    ).toEqual(['processing', 'completed']);
    expect(errors.length).toBeGreaterThan(0);
  });
});
