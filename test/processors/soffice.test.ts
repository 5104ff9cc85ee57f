/**
 * LibreOffice conversion: the real `soffice` (DOCX → PDF, read back with MuPDF) and stand-in
 * scripts for what a real soffice does rarely: hang (timeout → PROCESSING_TIMEOUT and a dead
 * child), get cancelled (child killed, profile dir removed), fail (CONVERSION_FAILED with its
 * output), be missing (MEDIA_TOOL_MISSING naming the Debian packages), run too often at once.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mupdf from 'mupdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertToPdf } from '../../src/processors/office/index.js';
import { docx, makeDocx } from '../helpers/make-office.js';
import { skipWithoutSoffice } from '../helpers/soffice.js';

let dir: string;
let input: string;
const noSoffice = skipWithoutSoffice('soffice.test');

/** A shell script standing in for soffice; `body` sees the arguments as "$@". */
const standIn = (name: string, body: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The profile's work dir soffice was given (`-env:UserInstallation=file:///tmp/…/profile`). */
const workDirOf = (argsFile: string): string => {
  const arg = readFileSync(argsFile, 'utf8').split('\n').find((a) => a.startsWith('-env:UserInstallation='))!;
  return path.dirname(fileURLToPath(arg.slice('-env:UserInstallation='.length)));
};

const waitFor = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'secretary-soffice-test-'));
  input = path.join(dir, 'in.docx');
  await writeFile(input, makeDocx([docx.heading(1, 'Konvertierung'), docx.para('Erste Seite.'), docx.pageBreak(), docx.para('Zweite Seite.')]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('convertToPdf', () => {
  it.skipIf(noSoffice)('converts a DOCX to a PDF with the real LibreOffice', async () => {
    const out = path.join(dir, 'real.pdf');
    await convertToPdf(input, out, { path: 'soffice', timeoutMs: 120_000, maxConcurrent: 2 });
    const doc = mupdf.Document.openDocument(readFileSync(out), 'application/pdf');
    expect(doc.countPages()).toBe(2);
    expect(doc.loadPage(0).toStructuredText('preserve-whitespace').asText()).toContain('Konvertierung');
    expect(doc.loadPage(1).toStructuredText('preserve-whitespace').asText()).toContain('Zweite Seite.');
  }, 130_000);

  it('a missing soffice is MEDIA_TOOL_MISSING naming the Debian packages', async () => {
    const err = await convertToPdf(input, path.join(dir, 'x.pdf'), { path: path.join(dir, 'no-such-soffice'), timeoutMs: 5000, maxConcurrent: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MEDIA_TOOL_MISSING' });
    expect((err as Error).message).toContain('libreoffice-writer-nogui');
    expect((err as Error).message).toContain('processors.office.soffice_path');
  });

  it('a conversion over its time limit is PROCESSING_TIMEOUT; the child is killed and the profile removed', async () => {
    const pidFile = path.join(dir, 'hang.pid');
    const argsFile = path.join(dir, 'hang.args');
    const bin = standIn('hang.sh', `printf '%s\\n' "$@" > '${argsFile}'\necho $$ > '${pidFile}'\nexec sleep 60`);
    const started = Date.now();
    const err = await convertToPdf(input, path.join(dir, 'hang.pdf'), { path: bin, timeoutMs: 700, maxConcurrent: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROCESSING_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(false);
    expect(existsSync(workDirOf(argsFile))).toBe(false);
    expect(existsSync(path.join(dir, 'hang.pdf'))).toBe(false);
  });

  it('abort (cancel) kills the running child and removes its profile dir', async () => {
    const pidFile = path.join(dir, 'cancel.pid');
    const argsFile = path.join(dir, 'cancel.args');
    const bin = standIn('cancel.sh', `printf '%s\\n' "$@" > '${argsFile}'\necho $$ > '${pidFile}'\nexec sleep 60`);
    const ac = new AbortController();
    const p = convertToPdf(input, path.join(dir, 'cancel.pdf'), { path: bin, timeoutMs: 60_000, maxConcurrent: 1, signal: ac.signal }).catch((e: unknown) => e);
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    ac.abort();
    expect(await p).toMatchObject({ code: 'CANCELLED' });
    expect(alive(pid)).toBe(false);
    expect(existsSync(workDirOf(argsFile))).toBe(false);
  });

  it('a failing soffice is CONVERSION_FAILED with its last output lines', async () => {
    const bin = standIn('fail.sh', `echo 'Error: source file could not be loaded' >&2\nexit 3`);
    const err = await convertToPdf(input, path.join(dir, 'f.pdf'), { path: bin, timeoutMs: 5000, maxConcurrent: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONVERSION_FAILED', details: { exit_code: 3 } });
    expect((err as Error).message).toContain('source file could not be loaded');
    const silent = standIn('silent.sh', 'exit 0');
    await expect(convertToPdf(input, path.join(dir, 's.pdf'), { path: silent, timeoutMs: 5000, maxConcurrent: 1 })).rejects.toMatchObject({
      code: 'CONVERSION_FAILED',
      message: expect.stringContaining('without writing a PDF'),
    });
  });

  it('runs at most maxConcurrent conversions at once, each with its own profile', async () => {
    const log = path.join(dir, 'concurrency.log');
    const bin = standIn(
      'slow.sh',
      [
        'outdir=""; prev=""; profile=""',
        'for a in "$@"; do [ "$prev" = "--outdir" ] && outdir="$a"; case "$a" in -env:UserInstallation=*) profile="$a";; esac; prev="$a"; done',
        `echo "start $profile" >> '${log}'`,
        'sleep 0.3',
        `printf '%%PDF-1.4\\n' > "$outdir/document.pdf"`,
        `echo "end $profile" >> '${log}'`,
      ].join('\n'),
    );
    await Promise.all([1, 2, 3].map((i) => convertToPdf(input, path.join(dir, `c${i}.pdf`), { path: bin, timeoutMs: 10_000, maxConcurrent: 1 })));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    // strictly one at a time: start, end, start, end, …, each end belonging to the start before it
    for (let i = 0; i < 6; i += 2) {
      expect(lines[i]).toMatch(/^start -env:UserInstallation=file:\/\//);
      expect(lines[i + 1]).toBe(lines[i]!.replace('start', 'end'));
    }
    expect(new Set(lines.filter((l) => l.startsWith('start'))).size).toBe(3);
    for (const i of [1, 2, 3]) expect(readFileSync(path.join(dir, `c${i}.pdf`), 'utf8')).toContain('%PDF-1.4');
  });
});
