/**
 * The API counts submissions in flight for the worker's claim gate (`IngressActivity`): a POST
 * counts from its arrival until it is answered, a `wait_ms` request stops counting when it
 * starts waiting for its job, and a client that goes away mid-upload is not counted forever.
 * Real HTTP on loopback, a real SQLite store.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IngressActivity } from '../../src/core/ingress-activity.js';
import { createTestApi, registerPermissivePdf, sleep, until, type TestApi } from './api-fixtures.js';

let api: TestApi | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

const start = async (ingress: IngressActivity, worker = false) => {
  api = await createTestApi({ ingress, worker, register: registerPermissivePdf });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
};

const boundary = '----ingress-test';
const head = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join('') +
  `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 `;
const tail = `\r\n--${boundary}--\r\n`;

/** Starts a multipart upload and sends only its first part; `finish` sends the rest. */
const slowUpload = (url: string, fields: Record<string, string>) => {
  const req = request(url, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
  });
  req.write(head(fields));
  return { req, answer, finish: () => req.end(tail) };
};

describe('submissions in flight', () => {
  it('a POST counts from its arrival until it is answered; GETs do not count', async () => {
    const ingress = new IngressActivity();
    const base = await start(ingress);
    const up = slowUpload(`${base}/api/pdf/process`, { extraction_method: 'native' });
    await until(() => ingress.count === 1);
    const get = await fetch(`${base}/api/jobs`);
    expect(get.status).toBe(200);
    expect(ingress.count).toBe(1);
    up.finish();
    const res = await up.answer;
    expect(res.status).toBe(202);
    await until(() => ingress.count === 0);
  });

  it('a client that goes away mid-upload stops counting', async () => {
    const ingress = new IngressActivity();
    const base = await start(ingress);
    const up = slowUpload(`${base}/api/pdf/process`, {});
    up.answer.catch(() => {});
    await until(() => ingress.count === 1);
    up.req.destroy();
    await until(() => ingress.count === 0);
  });

  it('a wait_ms submission stops counting while it waits for its job', async () => {
    const ingress = new IngressActivity();
    const base = await start(ingress); // no worker: the job stays pending, the request waits
    const up = slowUpload(`${base}/api/pdf/process`, { wait_ms: '1500' });
    await until(() => ingress.count === 1);
    up.finish();
    await until(async () => (await api!.store.stats()).by_status.some((s) => s.count > 0));
    await until(() => ingress.count === 0);
    const res = await up.answer; // the 202 ACK when the time is up
    expect(res.status).toBe(202);
  });

  it('while a burst is being received the worker starts no job; afterwards it runs them', async () => {
    const ingress = new IngressActivity(2, 60_000, 1);
    const base = await start(ingress, true);
    const ups = [slowUpload(`${base}/api/pdf/process`, {}), slowUpload(`${base}/api/pdf/process`, {})];
    await until(() => ingress.count === 2);
    // a job submitted as JSON meanwhile waits, as the burst's own jobs would
    const res = await fetch(`${base}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ job_type: 'echo', parameters: { message: 'x' } }),
    });
    const id = ((await res.json()) as { data: { job_id: string } }).data.job_id;
    try {
      await sleep(300);
      expect((await api!.store.getJob(id))?.status).toBe('pending');
    } finally {
      for (const u of ups) u.finish();
    }
    expect((await Promise.all(ups.map((u) => u.answer))).map((a) => a.status)).toEqual([202, 202]);
    await until(async () => (await api!.store.getJob(id))?.status === 'completed');
  });
});
