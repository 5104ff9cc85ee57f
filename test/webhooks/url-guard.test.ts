/** The SSRF guard: unit checks, the dispatcher refusing targets, and guarded downloads. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import { checkUrl, validateWebhookUrl, type GuardOptions } from '../../src/net/url-guard.js';
import { nonPublicReason } from '../../src/net/ip-ranges.js';
import { safeDownload } from '../../src/net/safe-fetch.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { hook, ofJob, sleep, startHarness, until, type Harness } from './harness.js';
import { startReceiver, type Receiver } from './receiver.js';

const STRICT: GuardOptions = { allowPrivate: false };
const publicDns = (address: string) => async () => [{ address, family: address.includes(':') ? 6 : 4 }];

const refused = async (p: Promise<unknown>, pattern?: RegExp): Promise<void> => {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SecretaryError);
  expect((err as SecretaryError).code).toBe('URL_NOT_ALLOWED');
  if (pattern) expect((err as Error).message).toMatch(pattern);
};

describe('url guard', () => {
  it('classifies non-public addresses, including IPv4-mapped IPv6 forms', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '169.254.169.254',
      '0.0.0.0', '::', '::1', 'fc00::1', 'fd12::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254',
      '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::1', '224.0.0.1', '255.255.255.255']) {
      expect(nonPublicReason(a), a).not.toBeNull();
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(nonPublicReason(a), a).toBeNull();
    }
  });

  it('refuses loopback, private, link-local and metadata targets, literal or after DNS', async () => {
    for (const u of ['http://127.0.0.1/x', 'http://10.0.0.5/x', 'http://192.168.0.1/', 'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]/', 'http://[fe80::1]/', 'http://0.0.0.0/', 'http://2130706433/', 'http://0x7f.1/']) {
      await refused(checkUrl(u, STRICT));
      expect(() => validateWebhookUrl(u, STRICT), u).toThrow(SecretaryError);
    }
    await refused(checkUrl('http://localhost:9/hook', STRICT), /localhost resolves to/);
    await refused(checkUrl('http://metadata.example/', { ...STRICT, resolve: publicDns('169.254.169.254') }), /link-local/);
    // one private address among public ones is enough to refuse (DNS rebinding tricks)
    await refused(checkUrl('http://mixed.example/', { ...STRICT, resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.1', family: 4 }] }));
    expect(() => validateWebhookUrl('http://localhost/x', STRICT)).toThrow(/loopback/);
    expect(() => validateWebhookUrl('ftp://example.org/x', STRICT)).toThrow(/scheme ftp/);
    expect(() => validateWebhookUrl('not a url', STRICT)).toThrow(SecretaryError);
    expect(() => validateWebhookUrl('https://user:pw@example.org/x', STRICT)).toThrow(/credentials/);
    await refused(checkUrl('file:///etc/passwd', STRICT), /scheme file/);
  });

  it('allows public targets, everything with allowPrivate, and what the allowlist names', async () => {
    const ok = await checkUrl('https://hooks.example.org/cb', { ...STRICT, resolve: publicDns('93.184.216.34') });
    expect(ok.address).toBe('93.184.216.34');
    // the lookup handed to http.request answers with the vetted address whatever is asked
    const viaLookup = await new Promise<unknown>((r) => ok.lookup('hooks.example.org', { all: true }, (_e, a) => r(a)));
    expect(viaLookup).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(validateWebhookUrl('https://hooks.example.org/cb', STRICT)).toBe('https://hooks.example.org/cb');
    expect((await checkUrl('http://127.0.0.1:1/x', { allowPrivate: true })).address).toBe('127.0.0.1');
    expect((await checkUrl('http://10.1.2.3/x', { allowPrivate: false, allowlist: ['10.0.0.0/8'] })).address).toBe('10.1.2.3');
    expect((await checkUrl('http://localhost:1/x', { allowPrivate: false, allowlist: ['localhost'] })).url.hostname).toBe('localhost');
    await refused(checkUrl('http://10.1.2.3/x', { allowPrivate: false, allowlist: ['10.9.0.0/16'] }));
    expect(validateWebhookUrl('http://cks.internal/cb', { allowPrivate: false, allowlist: ['*.internal'] })).toBe('http://cks.internal/cb');
  });
});

describe('dispatcher and the guard', () => {
  let h: Harness | null = null;
  let rx: Receiver | null = null;
  afterEach(async () => {
    await h?.close();
    await rx?.close();
    h = null;
    rx = null;
  });

  it('refuses a loopback receiver when private URLs are not allowed (literal IP and localhost), without retrying', async () => {
    rx = await startReceiver();
    h = await startHarness({ dispatcher: { guard: { allowPrivate: false } } });
    const a = (await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url()) })).job;
    const b = (await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(`http://localhost:${rx.port}/hook`) })).job;
    for (const id of [a.job_id, b.job_id]) {
      await until(async () => (await h!.store.getDeliveries(id)).some((d) => d.kind === 'completed'));
      const d = (await h.store.getDeliveries(id)).filter((x) => x.kind === 'completed');
      expect(d).toEqual([expect.objectContaining({ outcome: 'failed', attempt: 1 })]);
      expect(d[0]!.error).toMatch(/URL_NOT_ALLOWED/);
    }
    await sleep(300);
    expect(rx.requests).toHaveLength(0);
  });

  it('delivers to a loopback receiver the allowlist permits', async () => {
    rx = await startReceiver();
    h = await startHarness({ dispatcher: { guard: { allowPrivate: false, allowlist: ['127.0.0.1/32'] } } });
    const { job } = await h.store.createJob({ job_type: 'echo', parameters: {}, webhook: hook(rx.url()) });
    await until(() => ofJob(rx!.requests, job.job_id).some((r) => r.body.phase === 'completed'));
  });
});

describe('safeDownload', () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
  });
  const serve = async (): Promise<number> => {
    server = createServer((req, res) => {
      const u = req.url ?? '/';
      if (u === '/file') return res.writeHead(200, { 'Content-Type': 'application/pdf' }).end(Buffer.alloc(1000, 1));
      if (u.startsWith('/hop/')) {
        const n = Number(u.slice(5));
        return res.writeHead(302, { Location: n > 0 ? `/hop/${n - 1}` : '/file' }).end();
      }
      if (u === '/to-ip') return res.writeHead(302, { Location: `http://127.0.0.1:${port}/file` }).end();
      if (u === '/big') return res.writeHead(200).end(Buffer.alloc(5000));
      if (u === '/big-chunked') {
        res.writeHead(200);
        res.write(Buffer.alloc(3000));
        return res.end(Buffer.alloc(3000));
      }
      if (u === '/slow') return void setTimeout(() => res.end('late'), 2000);
      if (u === '/error') return res.writeHead(500).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server!.address() as AddressInfo).port;
    return port;
  };
  const open: GuardOptions = { allowPrivate: true };
  const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e as SecretaryError).code);

  it('downloads, follows up to 5 redirects, and reports errors with codes', async () => {
    const port = await serve();
    const base = `http://127.0.0.1:${port}`;
    const r = await safeDownload(`${base}/hop/4`, { timeoutMs: 5000, maxBytes: 10_000, guard: open });
    expect(r).toMatchObject({ contentType: 'application/pdf', finalUrl: `${base}/file`, bytes: 1000 });
    expect(r.buffer?.length).toBe(1000);
    const tmp = tempDir();
    const f = await safeDownload(`${base}/file`, { timeoutMs: 5000, maxBytes: 10_000, guard: open, toPath: join(tmp.dir, 'x.pdf') });
    expect(readFileSync(f.path!).length).toBe(1000);
    tmp.cleanup();
    expect(await code(safeDownload(`${base}/hop/5`, { timeoutMs: 5000, maxBytes: 10_000, guard: open }))).toBe('DOWNLOAD_FAILED');
    expect(await code(safeDownload(`${base}/missing`, { timeoutMs: 5000, maxBytes: 10_000, guard: open }))).toBe('URL_NOT_FOUND');
    expect(await code(safeDownload(`${base}/error`, { timeoutMs: 5000, maxBytes: 10_000, guard: open }))).toBe('DOWNLOAD_FAILED');
    expect(await code(safeDownload(`${base}/big`, { timeoutMs: 5000, maxBytes: 4000, guard: open }))).toBe('FILE_TOO_LARGE');
    expect(await code(safeDownload(`${base}/big-chunked`, { timeoutMs: 5000, maxBytes: 4000, guard: open }))).toBe('FILE_TOO_LARGE');
    expect(await code(safeDownload(`${base}/slow`, { timeoutMs: 300, maxBytes: 4000, guard: open }))).toBe('DOWNLOAD_FAILED');
  });

  it('re-checks every redirect hop with the guard', async () => {
    const port = await serve();
    const guard: GuardOptions = { allowPrivate: false, allowlist: ['localhost'] };
    expect((await safeDownload(`http://localhost:${port}/file`, { timeoutMs: 5000, maxBytes: 10_000, guard })).bytes).toBe(1000);
    await refused(safeDownload(`http://localhost:${port}/to-ip`, { timeoutMs: 5000, maxBytes: 10_000, guard }), /127\.0\.0\.1 is loopback/);
    await refused(safeDownload(`http://127.0.0.1:${port}/file`, { timeoutMs: 5000, maxBytes: 10_000, guard: STRICT }));
  });
});
