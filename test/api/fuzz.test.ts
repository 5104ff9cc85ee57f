/**
 * Hostile-input fuzz: ≥ 1,000 malformed or hostile requests (random JSON, wrong types, huge
 * strings, deep nesting, prototype keys, path traversal in file routes, bad auth headers,
 * random methods and paths, raw request targets over a socket). Expect: zero 5xx, always a
 * JSON error for API errors, the server still answers, and no job was stored.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countJobs, createTestApi, type TestApi } from './api-fixtures.js';

const KEY = 'fuzz-admin-key-000000';

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
const prng = (seed: number) => () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};

describe('fuzz', () => {
  let t: TestApi;
  let port = 0;
  beforeAll(async () => {
    t = await createTestApi({ keys: [{ key: KEY }], config: { server: { body_limit_mb: 1 } } });
    mkdirSync(join(t.config.paths.cache_dir, 'pdf'), { recursive: true });
    writeFileSync(join(t.config.paths.cache_dir, 'pdf', 'ok.txt'), 'ok');
    writeFileSync(join(t.home, 'secret.txt'), 'TOP-SECRET');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => t.close());

  it('survives 1,500 hostile requests with no 5xx and nothing stored', async () => {
    const rnd = prng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const str = (n: number): string =>
      Array.from({ length: n }, () => {
        const c = Math.floor(rnd() * 0xffff);
        return String.fromCharCode(c >= 0xd800 && c <= 0xdfff ? 0x41 : c);
      }).join('');
    const value = (depth = 0): unknown => {
      const k = Math.floor(rnd() * (depth > 3 ? 5 : 8));
      switch (k) {
        case 0: return null;
        case 1: return rnd() < 0.5;
        case 2: return pick([0, -1, 1e308, -0, 3.5, Number.MAX_SAFE_INTEGER + 2]);
        case 3: return str(Math.floor(rnd() * 20));
        case 4: return pick(['', '../../etc/passwd', '%2e%2e', '\u0000', 'echo', '<script>', '{{x}}']);
        case 5: return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
        default: {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < Math.floor(rnd() * 5); i++) o[pick(['job_type', 'parameters', 'webhook', 'jobs', 'batch', 'user_id', 'priority', 'external_id', str(3)])] = value(depth + 1);
          return o;
        }
      }
    };
    const deep = (n: number, open: string, close: string) => `${open.repeat(n)}1${close.repeat(n)}`;
    const badJob = (): unknown =>
      pick([
        () => ({ job_type: pick(['', 'pdf', 'PDF', 'echo ', str(5), 'x'.repeat(100)]), parameters: value() }),
        () => ({ job_type: 'echo', parameters: { sleep_ms: pick(['x', -5, 1.5, [], {}, 1e12]) } }),
        () => ({ job_type: 'echo', parameters: { steps: 'many', message: 'x'.repeat(200_000) } }),
        () => ({ job_type: ['echo'], parameters: { fail_with: 'sometimes' } }),
        () => ({ job_type: 'echo', parameters: { steps: -1 }, webhook: value() }),
        () => ({ job_type: 'echo', webhook: { url: pick(['javascript:alert(1)', 'file:///etc/passwd', '', 'http://', str(10)]) } }),
        () => ({ job_type: 'echo', parameters: pick([[], 'str', 5, true]) }),
        () => ({ job_type: 'echo', parameters: { sleep_ms: 'x', __proto__: { admin: true } } }),
        () => JSON.parse('{"job_type":"nope","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'),
        () => ({ job_type: 'echo', priority: pick(['high', 1e9, -1e9, 0.5]), parameters: { steps: 'x' } }),
        () => ({ job_type: 'echo', run_at: pick(['yesterday', 5, '']), parameters: { steps: 'x' } }),
        () => ({ job_type: 'echo', external_id: 'x'.repeat(1000) }),
        () => value(),
      ])();
    const badBatch = (): unknown =>
      pick([
        () => ({ jobs: [{ job_type: 'echo' }, badJob()] }),
        () => ({ batch: { jobs: [badJob(), { job_type: 'echo' }] } }),
        () => ({ batch: pick([[], 'x', null, 5]) }),
        () => ({ jobs: pick([{}, 'x', 5, null]) }),
        () => ({ jobs: Array.from({ length: 10_001 }, () => ({ job_type: 'echo' })) }),
        () => ({ jobs: [{ job_type: 'echo', external_id: 'dup' }, { job_type: 'echo', external_id: 'dup' }] }),
        () => value(),
      ])();
    const filePaths = [
      '../secret.txt', '..%2Fsecret.txt', '%2e%2e%2fsecret.txt', '%252e%252e%252fsecret.txt', '..%5Csecret.txt', '..%255csecret.txt',
      'pdf/..%2f..%2fsecret.txt', '%2F%2E%2E%2Fsecret.txt', 'pdf/ok.txt%00.jpg', 'pdf/ok.txt%00', '%00', '%', '%zz', '%c0%ae%c0%ae/secret.txt',
      '%ef%bc%8e%ef%bc%8e/secret.txt', encodeURIComponent(join(t.home, 'secret.txt')), '/etc/passwd', 'C:%5CWindows%5Cwin.ini', 'x'.repeat(5000),
      'pdf/ok.txt', 'cache/pdf/ok.txt', 'pdf/ok.TXT', 'pdf', '', '.', '..', '....//....//secret.txt',
    ];
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;
    const paths = ['/api/jobs', '/api/jobs/', '/api/jobs/x', '/api/jobs/x/cancel', '/api/jobs/x/retry', '/api/jobs/batch', '/api/batches', '/api/batch/x', '/api/jobs/batch/x', '/api/batches/x/jobs', '/api/jobs/x/download-archive', '/api/jobs/x/stream', '/metrics', '/api/health', '/', '/api', '/api/doc/json', `/api/${str(4)}`, '/api/jobs?limit=-1', '/api/jobs?limit=99999', '/api/jobs?status=,,,', '/api/jobs?cursor=%00', '/api/jobs?limit=1&limit=2', '/api/jobs/x'.repeat(200)];
    const authHeaders = (): Record<string, string> =>
      rnd() < 0.8
        ? { authorization: `Bearer ${KEY}` }
        : pick<Record<string, string>>([
            {},
            { authorization: 'Bearer' },
            { authorization: `Bearer ${KEY} ` + 'x' },
            { authorization: `bearer ${'k'.repeat(10_000)}` },
            { authorization: `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}` },
            { 'x-secretary-api-key': KEY.slice(0, -1) },
            { 'x-secretary-api-key': `${KEY}\t` + 'y' },
            { authorization: 'Bearer ' + KEY.toUpperCase() },
          ]);

    const before = await countJobs(t.store);
    const statuses = new Map<number, number>();
    let n = 0;
    const check = (status: number, body: string, ct: string | undefined, what: string): void => {
      n++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, what).toBeLessThan(500);
      expect(body, what).not.toContain('TOP-SECRET');
      expect(body, what).not.toMatch(/at .*\.(ts|js):\d+/);
      if (status >= 400 && body) {
        expect(ct ?? '', what).toMatch(/json/);
        expect(JSON.parse(body).status, what).toBe('error');
      }
    };

    // every ingress route that reads a form or a JSON body
    const INGRESS = [
      '/api/pdf/process', '/api/pdf/process-mistral-ocr', '/api/pdf/process-url', '/api/imageocr/process', '/api/imageocr/process-url',
      '/api/audio/process', '/api/video/process', '/api/video/youtube', '/api/office/process', '/api/office/process-via-pdf',
      '/api/session/process', '/api/session/process-async', '/api/events/e1/summary',
      '/api/transformer/text', '/api/transformer/template', '/api/transformer/chat',
    ];
    for (let i = 0; i < 1300; i++) {
      const kind = Math.floor(rnd() * 7);
      let opts: InjectOptions;
      if (kind === 0) opts = { method: 'POST', url: pick(['/api/jobs', '/api/jobs/']), payload: JSON.stringify(badJob()) ?? 'null', headers: { 'content-type': 'application/json', ...authHeaders() } };
      else if (kind === 1) opts = { method: 'POST', url: pick(['/api/jobs/batch', '/api/batches']), payload: JSON.stringify(badBatch()) ?? 'null', headers: { 'content-type': 'application/json', ...authHeaders() } };
      else if (kind === 2) {
        const payload = pick([
          () => str(50), () => '{"job_type":', () => deep(20_000, '[', ']'), () => `{"job_type":"echo","parameters":${deep(5_000, '{"a":', '}')}}`,
          () => `{"job_type":"echo","parameters":{"steps":"x","m":"${'z'.repeat(1_100_000)}"}}`, () => '\uFEFF{}', () => Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('latin1'), () => '',
        ])();
        opts = { method: 'POST', url: pick(['/api/jobs', '/api/batches', '/api/jobs/x/cancel', ...INGRESS]), payload, headers: { 'content-type': pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'multipart/form-data', 'multipart/form-data; charset=utf-8', 'application/json; charset=utf-7', 'image/png']), ...authHeaders() } };
      } else if (kind === 3) opts = { method: 'GET', url: `${pick(['/api/pdf/text-content/', '/api/files/text/'])}${pick(filePaths)}`, headers: authHeaders() };
      else if (kind === 4) opts = { method: pick(methods), url: pick(paths), headers: authHeaders(), ...(rnd() < 0.5 ? { payload: JSON.stringify(value()) ?? '1', headers: { 'content-type': 'application/json', ...authHeaders() } } : {}) };
      else if (kind === 5) opts = { method: pick(['POST', 'DELETE', 'GET']), url: `/api/jobs/${encodeURIComponent(str(8))}${pick(['', '/cancel', '/retry', '/stream', '/download-archive'])}`, headers: authHeaders() };
      else opts = { method: 'GET', url: `/api/jobs?${pick(['status', 'job_type', 'batch_id', 'user_id', 'external_id', 'limit', 'cursor'])}=${encodeURIComponent(String(value()))}`, headers: authHeaders() };
      const r = await t.app.inject(opts);
      check(r.statusCode, opts.method === 'HEAD' ? '' : r.body, r.headers['content-type'] as string | undefined, `${opts.method} ${String(opts.url).slice(0, 120)} (${String((opts.headers as Record<string, unknown> | undefined)?.['content-type'] ?? 'no content-type')})`);
    }

    // raw request targets (no client-side URL normalisation) over a socket
    const raw = (target: string, headers = `Authorization: Bearer ${KEY}\r\n`): Promise<{ status: number; body: string; ct: string }> =>
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let data = '';
        s.setEncoding('latin1');
        s.on('data', (c: string) => (data += c));
        s.on('end', () => {
          const [head = '', body = ''] = data.split('\r\n\r\n');
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
          resolve({ status, body, ct: /content-type: ([^\r\n]*)/i.exec(head)?.[1] ?? '' });
        });
        s.on('error', reject);
        s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`);
      });
    const rawTargets = [
      '/api/pdf/text-content/../../secret.txt', '/api/pdf/text-content/cache/../../secret.txt', '/api/files/text/pdf/../../secret.txt',
      '/api/files/text/%2e%2e/secret.txt', '/api/files/text/%2e%2e/%2e%2e/secret.txt', '/api/files/text/.%2e/secret.txt', '/api/files/text/pdf/..\\..\\secret.txt',
      '/api/files/text//../secret.txt', '/api/files/text/pdf/ok.txt/../../../secret.txt', '/api/jobs/../metrics', '/api/files/text/%00',
    ];
    for (let i = 0; i < 220; i++) {
      const target = rawTargets[i % rawTargets.length]!;
      const r = await raw(target, i % 3 === 0 ? '' : `Authorization: Bearer ${KEY}\r\n`);
      expect(r.status, target).toBeGreaterThan(0);
      check(r.status, r.body, r.ct, `raw ${target}`);
      if (target.includes('secret') && r.status !== 401) expect([403, 404], target).toContain(r.status);
    }

    expect(n).toBeGreaterThanOrEqual(1000);
    expect(await countJobs(t.store)).toBe(before);
    const health = await t.app.inject({ method: 'GET', url: '/api/health' });
    expect(health.statusCode).toBe(200);
    const ok = await t.app.inject({ method: 'GET', url: '/api/files/text/pdf/ok.txt', headers: { authorization: `Bearer ${KEY}` } });
    expect(ok.json().content).toBe('ok');
    expect(Object.prototype).not.toHaveProperty('polluted');
    console.error('fuzz status histogram', Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])));
  }, 120_000);
});
