/** Upload files created ahead of time, on the real file system. */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UploadReserve } from '../../src/files/upload-reserve.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { sleep, until } from '../api/api-fixtures.js';

const open: Array<{ reserve: UploadReserve; cleanup: () => void }> = [];

const make = (size: number, idleMs = 50, onError?: (err: Error) => void) => {
  const tmp = tempDir('secretary-reserve-');
  const dir = join(tmp.dir, 'uploads');
  const reserve = new UploadReserve({
    dir,
    reserveDir: join(tmp.dir, '.upload-reserve'),
    size,
    idleMs,
    onError,
  });
  open.push({ reserve, cleanup: tmp.cleanup });
  return { reserve, dir, root: tmp.dir };
};

afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.reserve.close();
    o.cleanup();
  }
});

describe('UploadReserve', () => {
  it('fills in the background and hands out empty files under their final upload name', async () => {
    const { reserve, dir, root } = make(5);
    expect(reserve.take('.pdf')).toBeNull(); // nothing prepared before start
    reserve.start();
    await until(() => reserve.available === 5);
    expect(dirname(reserve.home)).toBe(join(root, '.upload-reserve'));
    expect(readdirSync(reserve.home)).toHaveLength(5);

    const path = reserve.take('.pdf');
    expect(path).not.toBeNull();
    expect(dirname(path!)).toBe(dir);
    expect(basename(path!)).toMatch(/^upload_[0-9a-f-]{36}\.pdf$/);
    expect(statSync(path!).size).toBe(0);
    expect(reserve.available).toBe(4);
    expect(readdirSync(reserve.home)).toHaveLength(4);
    expect(basename(reserve.take('')!)).toMatch(/^upload_[0-9a-f-]{36}$/);
  });

  it('refills only once no upload was taken for idleMs', async () => {
    const { reserve } = make(6, 150);
    reserve.start();
    await until(() => reserve.available === 6);
    // a burst: a take every 20 ms keeps the reserve from creating files
    for (let i = 0; i < 5; i++) {
      expect(reserve.take('.pdf')).not.toBeNull();
      await sleep(20);
    }
    expect(reserve.available).toBe(1);
    await until(() => reserve.available === 6, 3000);
  });

  it('skips a prepared file someone removed, and answers null when none is left', async () => {
    const { reserve } = make(3);
    reserve.start();
    await until(() => reserve.available === 3);
    rmSync(join(reserve.home, readdirSync(reserve.home).sort()[2]!)); // the next one to be taken
    const path = reserve.take('.pdf');
    expect(path).not.toBeNull();
    expect(existsSync(path!)).toBe(true);
    for (const f of readdirSync(reserve.home)) rmSync(join(reserve.home, f));
    expect(reserve.take('.pdf')).toBeNull();
  });

  it('keeps its files when the uploads folder is gone, and hands them out once it is back', async () => {
    const { reserve, dir } = make(2);
    reserve.start();
    await until(() => reserve.available === 2);
    rmSync(dir, { recursive: true });
    expect(reserve.take('.pdf')).toBeNull();
    expect(reserve.available).toBe(2);
    mkdirSync(dir);
    expect(reserve.take('.pdf')).not.toBeNull();
  });

  it('removes what nobody took on close', async () => {
    const { reserve } = make(4);
    reserve.start();
    await until(() => reserve.available === 4);
    await reserve.close();
    expect(existsSync(reserve.home)).toBe(false);
    expect(reserve.take('.pdf')).toBeNull();
  });

  it('reports a cache it cannot write to once and stays empty', async () => {
    const errors: Error[] = [];
    const { reserve, root } = make(3, 20, (e) => errors.push(e));
    writeFileSync(join(root, '.upload-reserve'), 'a file where the folder belongs');
    reserve.start();
    await until(() => errors.length > 0);
    await sleep(100);
    expect(errors).toHaveLength(1);
    expect(reserve.available).toBe(0);
    expect(reserve.take('.pdf')).toBeNull();
  });

  it('removes the reserve of a process that ended without closing it, after a day', async () => {
    const { reserve, root } = make(1);
    const dead = join(root, '.upload-reserve', 'gone-process');
    const recent = join(root, '.upload-reserve', 'other-live-process');
    for (const d of [dead, recent]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'r1'), '');
    }
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(dead, twoDaysAgo, twoDaysAgo);
    reserve.start();
    await until(() => !existsSync(dead));
    expect(existsSync(join(recent, 'r1'))).toBe(true);
  });
});
