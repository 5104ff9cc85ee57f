/** SSE over real HTTP: events in order with ids, heartbeats, Last-Event-ID resume, close after the terminal event, 404. */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from './api-fixtures.js';

interface SseEvent {
  id: string | null;
  event: string;
   
  data: any;
}

interface StreamResult {
  status: number;
  contentType: string;
  raw: string;
  events: SseEvent[];
  heartbeats: number;
  ended: boolean;
}

/** Reads a stream until it ends or `maxMs` passes; `onOpen` runs once headers arrive. */
const readStream = (url: string, headers: Record<string, string> = {}, maxMs = 8000, onOpen?: () => void): Promise<StreamResult> =>
  new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let raw = '';
      let ended = false;
      onOpen?.();
      const done = (): void => {
        clearTimeout(timer);
        const events: SseEvent[] = [];
        let heartbeats = 0;
        for (const block of raw.split('\n\n')) {
          const lines = block.split('\n').filter(Boolean);
          if (lines.length === 0) continue;
          if (lines.every((l) => l.startsWith(':'))) {
            heartbeats += lines.filter((l) => l === ': heartbeat').length;
            continue;
          }
          const ev: SseEvent = { id: null, event: 'message', data: null };
          for (const l of lines) {
            if (l.startsWith('id: ')) ev.id = l.slice(4);
            else if (l.startsWith('event: ')) ev.event = l.slice(7);
            else if (l.startsWith('data: ')) ev.data = JSON.parse(l.slice(6));
          }
          if (lines.some((l) => l.startsWith('event: '))) events.push(ev);
        }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), raw, events, heartbeats, ended });
      };
      const timer = setTimeout(() => {
        req.destroy();
        done();
      }, maxMs);
      res.setEncoding('utf8');
      res.on('data', (c: string) => (raw += c));
      res.on('end', () => {
        ended = true;
        done();
      });
      res.on('error', () => done());
    });
    req.on('error', reject);
    req.end();
  });

describe('SSE over HTTP', () => {
  let t: TestApi;
  let base: string;
  beforeAll(async () => {
    t = await createTestApi({ worker: true, config: { server: { sse_heartbeat_sec: 0.2 } } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => t.close());

  const enqueue = async (body: object): Promise<string> =>
    (await t.app.inject({ method: 'POST', url: '/api/jobs', payload: body })).json().data.job_id as string;

  it('streams pending → progress → completed with ids and heartbeats, then closes', async () => {
    const runAt = new Date(Date.now() + 700).toISOString();
    const id = await enqueue({ job_type: 'echo', run_at: runAt, parameters: { steps: 3, sleep_ms: 900, message: 'sse' } });
    const r = await readStream(`${base}/api/jobs/${id}/stream`);
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/event-stream/);
    expect(r.raw.startsWith('retry: ')).toBe(true);
    expect(r.ended).toBe(true);
    const names = r.events.map((e) => e.event);
    expect(names[0]).toBe('pending');
    expect(names.at(-1)).toBe('completed');
    expect(names.filter((n) => n === 'progress').length).toBeGreaterThanOrEqual(2);
    expect(names.filter((n) => n === 'completed')).toHaveLength(1);
    const ids = r.events.map((e) => Number(e.id));
    expect(ids.every((n) => Number.isInteger(n) && n > 0)).toBe(true);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const progress = r.events.find((e) => e.event === 'progress')!.data;
    expect(progress).toMatchObject({ process: { id }, job: { id } });
    expect(typeof progress.progress).toBe('number');
    expect(typeof progress.phase).toBe('string');
    const completed = r.events.at(-1)!.data;
    expect(completed).toMatchObject({ phase: 'completed', process: { id }, job: { id }, data: { message: 'sse' } });
    expect(r.heartbeats).toBeGreaterThanOrEqual(1);
    // every data line is one line of JSON
    for (const line of r.raw.split('\n').filter((l) => l.startsWith('data: '))) expect(() => JSON.parse(line.slice(6))).not.toThrow();
  });

  it('resumes with Last-Event-ID: nothing repeated, only changes since', async () => {
    const id = await enqueue({ job_type: 'echo', parameters: { message: 'x' } });
    const first = await readStream(`${base}/api/jobs/${id}/stream`);
    const last = first.events.at(-1)!;
    expect(last.event).toBe('completed');
    const same = await readStream(`${base}/api/jobs/${id}/stream`, { 'last-event-id': String(last.id) }, 3000);
    expect(same.ended).toBe(true);
    expect(same.events).toHaveLength(0);
    const older = await readStream(`${base}/api/jobs/${id}/stream`, { 'last-event-id': String(Number(last.id) - 1) }, 3000);
    expect(older.events.map((e) => e.event)).toEqual(['completed']);
  });

  it('a resumed stream of an unchanged job waits (heartbeats only) and pushes the next change', async () => {
    const id = await enqueue({ job_type: 'echo', run_at: new Date(Date.now() + 3_600_000).toISOString() });
    const version = (await t.store.getJob(id))!.version;
    const r = await readStream(`${base}/api/jobs/${id}/stream`, { 'last-event-id': String(version) }, 5000, () => {
      setTimeout(() => void t.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` }), 700);
    });
    expect(r.ended).toBe(true);
    expect(r.events.map((e) => e.event)).toEqual(['error']);
    expect(Number(r.events[0]!.id)).toBeGreaterThan(version);
    expect(r.events[0]!.data.error.code).toBe('CANCELLED');
    expect(r.events[0]!.data.error.message).toBeTruthy();
    expect(r.heartbeats).toBeGreaterThanOrEqual(2);
  });

  it('answers 404 JSON for an unknown job', async () => {
    const r = await readStream(`${base}/api/jobs/job-unknown/stream`, {}, 3000);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.raw)).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });
  });

  it('streams a batch until it ends', async () => {
    const b = (await t.app.inject({ method: 'POST', url: '/api/batches', payload: { jobs: [{ job_type: 'echo', parameters: { sleep_ms: 300 } }, { job_type: 'echo' }] } })).json().data;
    const r = await readStream(`${base}/api/batches/${b.batch_id}/stream`);
    expect(r.ended).toBe(true);
    const names = r.events.map((e) => e.event);
    expect(names[0]).toBe('batch');
    expect(names.at(-1)).toBe('completed');
    expect(r.events.at(-1)!.data.batch.completed_jobs).toBe(2);
    expect((await readStream(`${base}/api/batches/batch-nope/stream`, {}, 2000)).status).toBe(404);
  });

  it('ends open streams when the server closes', async () => {
    const t2 = await createTestApi({ config: { server: { sse_heartbeat_sec: 0.2 } } });
    await t2.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t2.app.server.address() as AddressInfo).port;
    const id = (await t2.app.inject({ method: 'POST', url: '/api/jobs', payload: { job_type: 'echo' } })).json().data.job_id;
    const started = Date.now();
    const r = await readStream(`http://127.0.0.1:${port}/api/jobs/${id}/stream`, {}, 8000, () => {
      setTimeout(() => void t2.close(), 300);
    });
    expect(r.events.map((e) => e.event)).toEqual(['pending']);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
