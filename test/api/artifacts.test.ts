import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, zipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInside } from '../../src/files/safe-path.js';
import { createTestApi, until, type TestApi } from './api-fixtures.js';

describe('artifacts', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi({
      worker: true,
      register: (r) =>
        r.register({
          type: 'zipper',
          handler: async (job) => {
            const dir = join(t.config.paths.cache_dir, 'archives', job.job_id);
            mkdirSync(dir, { recursive: true });
            writeFileSync(join(dir, 'images.zip'), zipSync({ 'images/image_001.jpg': strToU8('not really a jpeg') }));
            return { archive_path: `archives/${job.job_id}/images.zip`, archive_filename: 'report_images_20250306.zip' };
          },
        }),
    });
    const cache = t.config.paths.cache_dir;
    mkdirSync(join(cache, 'pdf', 'abc', 'native'), { recursive: true });
    writeFileSync(join(cache, 'pdf', 'abc', 'native', 'page_001.txt'), 'Seite eins');
    writeFileSync(join(cache, 'pdf', 'abc', 'native', 'image_001.jpg'), 'jpeg');
    writeFileSync(join(cache, 'pdf', 'abc', 'native', 'weird %2e name.txt'), 'odd');
    writeFileSync(join(t.home, 'secret.txt'), 'outside the cache');
    symlinkSync(join(t.home, 'secret.txt'), join(cache, 'pdf', 'escape.txt'));
    symlinkSync(t.home, join(cache, 'pdf', 'homelink'));
  });
  afterAll(async () => t.close());

  const get = (url: string) => t.app.inject({ method: 'GET', url });

  it('download-archive: 200 zip from results.archive_path with headers', async () => {
    const id = (await t.app.inject({ method: 'POST', url: '/api/jobs', payload: { job_type: 'zipper' } })).json().data.job_id;
    await until(async () => (await t.store.getJob(id))?.status === 'completed');
    const r = await get(`/api/jobs/${id}/download-archive`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toContain('filename="report_images_20250306.zip"');
    const files = unzipSync(new Uint8Array(r.rawPayload));
    expect(Object.keys(files)).toEqual(['images/image_001.jpg']);
  });

  it('download-archive: 202 while running, 400 without archive, 404 unknown', async () => {
    const running = (await t.app.inject({ method: 'POST', url: '/api/jobs', payload: { job_type: 'echo', parameters: { sleep_ms: 10_000 } } })).json().data.job_id;
    const r202 = await get(`/api/jobs/${running}/download-archive`);
    expect(r202.statusCode).toBe(202);
    expect(r202.json().status).toBe('processing');
    await t.app.inject({ method: 'POST', url: `/api/jobs/${running}/cancel` });
    const r400 = await get(`/api/jobs/${running}/download-archive`);
    expect(r400.statusCode).toBe(400);
    expect(r400.json().error.code).toBe('NO_ARTIFACT');
    const done = (await t.app.inject({ method: 'POST', url: '/api/jobs', payload: { job_type: 'echo' } })).json().data.job_id;
    await until(async () => (await t.store.getJob(done))?.status === 'completed');
    expect((await get(`/api/jobs/${done}/download-archive`)).statusCode).toBe(400);
    const r404 = await get('/api/jobs/job-unknown/download-archive');
    expect(r404.statusCode).toBe(404);
    expect(r404.json().error.code).toBe('NOT_FOUND');
  });

  it('text-content: serves .txt inside the cache in both path forms and under both routes', async () => {
    for (const url of [
      '/api/pdf/text-content/cache/pdf/abc/native/page_001.txt',
      '/api/pdf/text-content/pdf/abc/native/page_001.txt',
      '/api/files/text/cache/pdf/abc/native/page_001.txt',
      '/api/files/text/pdf%2Fabc%2Fnative%2Fpage_001.txt',
      `/api/files/text/${encodeURIComponent(join(t.config.paths.cache_dir, 'pdf/abc/native/page_001.txt'))}`,
    ]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.json().content).toBe('Seite eins');
      expect(typeof r.json().file_path).toBe('string');
    }
    expect((await get('/api/files/text/pdf/abc/native/weird%20%252e%20name.txt')).json().content).toBe('odd');
  });

  it('text-content: traversal, encoded tricks, symlinks → 403; not .txt → 400; missing → 404', async () => {
    const cases: [string, number][] = [
      ['/api/pdf/text-content/..%2Fsecret.txt', 403],
      ['/api/pdf/text-content/%2e%2e/secret.txt', 0],
      ['/api/pdf/text-content/%2e%2e%2fsecret.txt', 403],
      ['/api/pdf/text-content/%252e%252e/secret.txt', 403],
      ['/api/pdf/text-content/pdf/..%5C..%5Csecret.txt', 403],
      ['/api/files/text/..%5Csecret.txt', 403],
      [`/api/files/text/${encodeURIComponent(join(t.home, 'secret.txt'))}`, 403],
      ['/api/files/text//etc/passwd.txt', 403],
      ['/api/files/text/C:%2FWindows%2Fwin.txt', 403],
      ['/api/files/text/pdf/escape.txt', 403],
      ['/api/files/text/pdf/homelink/secret.txt', 403],
      ['/api/files/text/pdf/abc/native/image_001.jpg', 400],
      ['/api/files/text/pdf/abc/native/page_001.txt%00.jpg', 400],
      ['/api/files/text/pdf/abc/native/page_001.TXT.exe', 400],
      ['/api/files/text/pdf/abc/native/page_999.txt', 404],
      ['/api/files/text/pdf/abc/native', 400],
      ['/api/files/text/pdf%zz.txt', 400],
    ];
    // a raw `..` in the URL is normalised away by URL parsers before routing: never served
    const dotted = await get('/api/pdf/text-content/cache/../secret.txt');
    expect([403, 404]).toContain(dotted.statusCode);
    for (const [url, status] of cases) {
      const r = await get(url);
      // 0: the URL parser may already have removed the dot segments (then no route matches)
      if (status === 0) expect([403, 404], url).toContain(r.statusCode);
      else expect(r.statusCode, url).toBe(status);
      expect(r.json().status, url).toBe('error');
      expect(r.body).not.toContain('outside the cache');
    }
  });

  it('resolveInside (unit): lexical and real containment', async () => {
    const root = t.config.paths.cache_dir;
    expect((await resolveInside(root, 'pdf/abc/native/page_001.txt', { extensions: ['.txt'] })).ok).toBe(true);
    expect(await resolveInside(root, 'pdf/../../secret.txt')).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(await resolveInside(root, 'pdf/escape.txt')).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(await resolveInside(root, 'a\u0000b')).toMatchObject({ ok: false, reason: 'bad_request' });
    expect(await resolveInside(join(root, 'nope'), 'x.txt')).toMatchObject({ ok: false, reason: 'not_found' });
  });
});
