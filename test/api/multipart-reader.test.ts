/** The multipart reader of the ingress endpoints against real HTTP requests on loopback. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import { readMultipart, type MultipartRead } from '../../src/api/multipart-reader.js';
import { tempDir } from '../helpers/worker-fixtures.js';

let server: Server;
let url: string;
let dir: { dir: string; cleanup: () => void };
let last: Promise<MultipartRead> | null = null;
let n = 0;

const limits = { fileSize: 64 * 1024, files: 2, fields: 5, fieldSize: 1024 };

beforeAll(async () => {
  dir = tempDir('secretary-mp-');
  server = createServer((req, res) => {
    last = readMultipart(req, {
      limits,
      fileField: 'file',
      target: async (name) => join(dir.dir, `${++n}-${name.replace(/[^\w.]/g, '_')}`),
    });
    last.then(
      (r) => res.end(JSON.stringify({ ok: true, fields: r.fields, file: r.file })),
      (e: SecretaryError) =>
        res.end(JSON.stringify({ ok: false, code: e.code, message: e.message })),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.close();
  dir.cleanup();
});

const form = (parts: Array<[string, string | Buffer, string?]>): FormData => {
  const fd = new FormData();
  for (const [name, value, filename] of parts) {
    if (filename) fd.append(name, new Blob([value]), filename);
    else fd.append(name, String(value));
  }
  return fd;
};

const post = async (body: FormData): Promise<Record<string, any>> =>
  (await (await fetch(url, { method: 'POST', body })).json()) as Record<string, any>;

const files = (): string[] => readdirSync(dir.dir);

describe('multipart reader', () => {
  it('reads string fields and writes the one file part, draining other files', async () => {
    const r = await post(
      form([
        ['useCache', 'true'],
        ['file', Buffer.from('%PDF-1.7 hello'), 'report.pdf'],
        ['other', Buffer.from('ignored'), 'x.bin'],
        ['callback_url', 'http://cb/1'],
      ]),
    );
    expect(r.ok).toBe(true);
    expect(r.fields).toEqual({ useCache: 'true', callback_url: 'http://cb/1' });
    expect(r.file).toMatchObject({ filename: 'report.pdf', size: 14 });
    expect(readFileSync(r.file.path, 'utf8')).toBe('%PDF-1.7 hello');
  });

  it('refuses a file over the limit with PAYLOAD_TOO_LARGE and leaves no file behind', async () => {
    const before = files().length;
    const r = await post(form([['file', Buffer.alloc(100 * 1024, 1), 'big.pdf']]));
    expect(r).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(files().length).toBe(before);
  });

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

  it('removes the partial file when the client goes away mid-upload', async () => {
    const before = files().length;
    const boundary = 'B0undary';
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    req.on('error', () => undefined);
    req.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
    );
    req.write(Buffer.alloc(8 * 1024, 7));
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    await expect(last).rejects.toBeInstanceOf(SecretaryError);
    await new Promise((r) => setTimeout(r, 50));
    expect(files().length).toBe(before);
    expect(files().some((f) => f.endsWith('cut.pdf'))).toBe(false);
    expect(existsSync(dir.dir)).toBe(true);
  });
});
