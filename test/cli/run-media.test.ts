/** `secretary run <recording>` as a person runs it: a real process, the fake provider, live progress, a Markdown file. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { toneSequence } from '../processors/helpers/make-media.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'secretary.js');
const tmp = tempDir('secretary-cli-media-');
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});

const run = (args: string[], env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [bin, 'run', ...args],
      { env: { ...process.env, OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

it('transcribes a recording to <name>.md, and says what to set when no provider is configured', async () => {
  const file = toneSequence(join(tmp.dir, 'meeting.wav'), [
    { freq: 440, sec: 2 },
    { freq: 0, sec: 1 },
    { freq: 880, sec: 2 },
  ]);
  const out = join(tmp.dir, 'out');
  const ok = await run([file, '--home', join(tmp.dir, 'home'), '--out', out], {
    OPENAI_BASE_URL: fake.openaiBaseUrl,
  });
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stderr).toMatch(/\(audio\)/);
  expect(ok.stdout.trim()).toBe(join(out, 'meeting.md'));
  expect(readFileSync(join(out, 'meeting.md'), 'utf8')).toBe('Ton 440 Hz. Ton 880 Hz.\n');

  const none = await run([file, '--home', join(tmp.dir, 'home2'), '--out', out], {});
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/LLM_NOT_CONFIGURED: .*OPENAI_API_KEY.*OPENAI_BASE_URL/);
  expect(none.stderr).toMatch(/npm run fake-providers/);
});
