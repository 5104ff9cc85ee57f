/** The multipart reader of the ingress endpoints against real HTTP requests on loopback. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import { readMultipart, type MultipartRead } from '../../src/api/multipart-reader.js';
import { UploadReserve } from '../../src/files/upload-reserve.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { until } from './api-fixtures.js';

let server: Server;
let base: string;
let url: string;
let dir: { dir: string; cleanup: () => void };
let reserveDir: { dir: string; cleanup: () => void };
let reserve: UploadReserve;
let last: Promise<MultipartRead> | null = null;
let n = 0;

const limits = { fileSize: 64 * 1024, files: 2, fields: 5, fieldSize: 1024 };
/** Files up to 4 KB are read into memory on the `small` paths (the service uses 1 MB). */
const SMALL = 4096;

/**
 * Three ways of storing the file: `/stream` streams it to a new file; `/small` holds files up
 * to 4 KB in memory and writes them into a reserved file; `/small-none` has no reserved file
 * to give, so the small file goes to a new one.
 */
const MODES = ['/stream', '/small', '/small-none'] as const;

beforeAll(async () => {
  dir = tempDir('secretary-mp-');
  reserveDir = tempDir('secretary-mp-reserve-');
  reserve = new UploadReserve({ dir: dir.dir, reserveDir: reserveDir.dir, size: 50, idleMs: 0 });
  reserve.start();
  await until(() => reserve.available === 50);
  server = createServer((req, res) => {
    const mode = req.url ?? '/stream';
    last = readMultipart(req, {
      limits,
      fileField: 'file',
      target: async (name) => join(dir.dir, `${++n}-${name.replace(/[^\w.]/g, '_')}`),
      ...(mode === '/stream'
        ? {}
        : {
            small: {
              maxBytes: SMALL,
              take: mode === '/small' ? (name: string) => reserve.take(extname(name)) : () => null,
            },
          }),
    });
    last.then(
      (r) => res.end(JSON.stringify({ ok: true, fields: r.fields, file: r.file })),
      (e: SecretaryError) =>
        res.end(JSON.stringify({ ok: false, code: e.code, message: e.message })),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  url = `${base}/stream`;
});
afterAll(async () => {
  server.close();
  await reserve.close();
  dir.cleanup();
  reserveDir.cleanup();
});

const form = (parts: Array<[string, string | Buffer, string?]>): FormData => {
  const fd = new FormData();
  for (const [name, value, filename] of parts) {
    if (filename) fd.append(name, new Blob([value]), filename);
    else fd.append(name, String(value));
  }
  return fd;
};

const post = async (body: FormData, to = url): Promise<Record<string, any>> =>
  (await (await fetch(to, { method: 'POST', body })).json()) as Record<string, any>;

const files = (): string[] => readdirSync(dir.dir);

describe('multipart reader', () => {
  it.each(MODES)(
    '%s: reads string fields and writes the one file part, draining other files',
    async (mode) => {
      const r = await post(
        form([
          ['useCache', 'true'],
          ['file', Buffer.from('%PDF-1.7 hello'), 'report.pdf'],
          ['other', Buffer.from('ignored'), 'x.bin'],
          ['callback_url', 'http://cb/1'],
        ]),
        base + mode,
      );
      expect(r.ok).toBe(true);
      expect(r.fields).toEqual({ useCache: 'true', callback_url: 'http://cb/1' });
      expect(r.file).toMatchObject({ filename: 'report.pdf', size: 14 });
      expect(readFileSync(r.file.path, 'utf8')).toBe('%PDF-1.7 hello');
    },
  );

  it.each(MODES)(
    '%s: refuses a file over the limit with PAYLOAD_TOO_LARGE and leaves no file behind',
    async (mode) => {
      const before = files().length;
      const r = await post(form([['file', Buffer.alloc(100 * 1024, 1), 'big.pdf']]), base + mode);
      expect(r).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
      expect(files().length).toBe(before);
    },
  );

  it('refuses a field over the limit instead of cutting it', async () => {
    const r = await post(form([['template_content', 'x'.repeat(2000)]]));
    expect(r).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(r.message).toMatch(/template_content/);
  });

  it('refuses too many fields and prototype names', async () => {
    const many = form(Array.from({ length: 7 }, (_, i): [string, string] => [`f${i}`, 'v']));
    expect(await post(many)).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(await post(form([['__proto__', 'x']]))).toMatchObject({
      ok: false,
      code: 'INVALID_PARAMETERS',
    });
  });

  it('answers an empty body as an empty form and a malformed one as INVALID_PARAMETERS', async () => {
    const send = (body: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
        body,
      }).then((r) => r.json() as Promise<Record<string, any>>);
    expect(await send('')).toMatchObject({ ok: true, fields: {}, file: null });
    expect(
      await send('--XYZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated'),
    ).toMatchObject({
      ok: false,
      code: 'INVALID_PARAMETERS',
    });
  });

  it.each(MODES)(
    '%s: refuses a multipart Content-Type without a boundary as INVALID_PARAMETERS, with or without a length',
    async (mode) => {
      const body = '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n';
      for (const type of ['multipart/form-data', 'multipart/form-data; charset=utf-8']) {
        for (const chunked of [false, true]) {
          const r = await new Promise<Record<string, any>>((resolve, reject) => {
            const req = request(base + mode, {
              method: 'POST',
              headers: {
                'content-type': type,
                ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length }),
              },
            });
            req.on('response', (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () => resolve(JSON.parse(text) as Record<string, any>));
            });
            req.on('error', reject);
            req.end(body);
          });
          expect(r, `${type}, chunked ${chunked}`).toMatchObject({
            ok: false,
            code: 'INVALID_PARAMETERS',
          });
          expect(r.message).toMatch(/boundary/i);
        }
      }
    },
  );

  it.each(MODES)(
    '%s: removes the partial file when the client goes away mid-upload',
    async (mode) => {
      // 1 KB is still held in memory on the small paths, 8 KB is streaming to its file
      for (const sent of [1024, 8 * 1024]) {
        const before = files().length;
        const boundary = 'B0undary';
        const req = request(base + mode, {
          method: 'POST',
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        });
        req.on('error', () => undefined);
        req.write(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
        );
        req.write(Buffer.alloc(sent, 7));
        await new Promise((r) => setTimeout(r, 100));
        req.destroy();
        await expect(last).rejects.toBeInstanceOf(SecretaryError);
        await new Promise((r) => setTimeout(r, 50));
        expect(files().length, `${sent} bytes sent`).toBe(before);
        expect(files().some((f) => f.endsWith('cut.pdf'))).toBe(false);
        expect(existsSync(dir.dir)).toBe(true);
      }
    },
  );

  it.each(MODES)(
    '%s: stores files below, at and above the in-memory size byte for byte',
    async (mode) => {
      for (const size of [0, 1, SMALL - 1, SMALL, SMALL + 1, 3 * SMALL + 17, 60 * 1024]) {
        const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + size) % 256));
        const r = await post(form([['file', bytes, 'doc.pdf']]), base + mode);
        expect(r.ok, `${size} bytes`).toBe(true);
        expect(r.file.size).toBe(size);
        expect(readFileSync(r.file.path).equals(bytes), `${size} bytes`).toBe(true);
      }
    },
  );

  it('writes a small file into a reserved file, a larger one into a new file', async () => {
    const ready = reserve.available;
    const small = await post(form([['file', Buffer.alloc(100, 3), 'a.PDF']]), `${base}/small`);
    expect(basename(small.file.path)).toMatch(/^upload_[0-9a-f-]{36}\.PDF$/);
    expect(reserve.available).toBe(ready - 1);
    const large = await post(
      form([['file', Buffer.alloc(SMALL + 1, 3), 'b.pdf']]),
      `${base}/small`,
    );
    expect(basename(large.file.path)).toMatch(/^\d+-b\.pdf$/);
    expect(reserve.available).toBe(ready - 1);
    const none = await post(form([['file', Buffer.alloc(100, 3), 'c.pdf']]), `${base}/small-none`);
    expect(basename(none.file.path)).toMatch(/^\d+-c\.pdf$/);
  });

  it('reads a body that declares its length whole: the plain form, one only busboy reads, a client that leaves', async () => {
    const boundary = 'b0und';
    const plain =
      `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="w.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF whole\r\n` +
      `--${boundary}--\r\n`;
    const send = (body: string, mode: string) =>
      fetch(base + mode, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
      }).then((r) => r.json() as Promise<Record<string, any>>);
    for (const mode of ['/small', '/small-none']) {
      // a preamble is valid multipart that only busboy reads: same answer from the same bytes
      for (const body of [plain, `a preamble\r\n${plain}`]) {
        const r = await send(body, mode);
        expect(r, `${mode}: ${body.slice(0, 12)}`).toMatchObject({
          ok: true,
          fields: { a: '1' },
          file: { filename: 'w.pdf', size: 10 },
        });
        expect(readFileSync(r.file.path, 'utf8')).toBe('%PDF whole');
      }
      const over = plain.replace('name="a"\r\n\r\n1', `name="a"\r\n\r\n${'x'.repeat(2000)}`);
      expect(await send(over, mode)).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
      const before = files().length;
      const req = request(base + mode, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(plain.length),
        },
      });
      req.on('error', () => undefined);
      req.write(plain.slice(0, 150));
      await new Promise((r) => setTimeout(r, 100));
      req.destroy();
      await expect(last).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' });
      await new Promise((r) => setTimeout(r, 50));
      expect(files().length).toBe(before);
    }
  });
});
