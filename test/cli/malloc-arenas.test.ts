/**
 * `MALLOC_ARENA_MAX`: `npm start` sets it, and a server or worker started without it says how to
 * start it (glibc reads it only at process start; without it bench:mistral's peak RSS went over
 * 600 MB). Real processes: `npm start` and `node bin/secretary.js serve`.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { warnWithoutArenaLimit } from '../../src/cli/runtime.js';
import { runForOutput } from '../helpers/process-output.js';
import { tempDir } from '../helpers/worker-fixtures.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = tempDir('secretary-arenas-');
afterAll(() => tmp.cleanup());

const logged = (env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  warnWithoutArenaLimit(pino(sink), env, platform);
  return lines;
};

describe('malloc arenas', () => {
  it('warns on Linux when neither MALLOC_ARENA_MAX nor a glibc arena tunable is set', () => {
    const [line, ...more] = logged({}, 'linux');
    expect(more).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({ level: 40 });
    expect(line).toMatch(/MALLOC_ARENA_MAX=2/);
    expect(logged({ MALLOC_ARENA_MAX: '4' }, 'linux')).toEqual([]);
    expect(logged({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux')).toEqual([]);
    expect(logged({}, 'darwin')).toEqual([]);
  });

  /** Starts a server with `command`, returns its log up to "listening", and stops it. */
  const startLog = async (command: string, args: string[], env: NodeJS.ProcessEnv) =>
    (await runForOutput(command, args, { cwd: root, env, stopWhen: /Secretary API listening/ }))
      .output;

  it('npm start runs the server with it; a server started without it says how to', async () => {
    const base = { ...process.env };
    delete base.MALLOC_ARENA_MAX;
    const viaNpm = await startLog(
      'npm',
      ['start', '--', '--port', '0', '--home', join(tmp.dir, 'npm')],
      base,
    );
    expect(viaNpm).toMatch(/Secretary API listening/);
    expect(viaNpm).not.toMatch(/MALLOC_ARENA_MAX is not set/);
    const plain = await startLog(
      process.execPath,
      [join(root, 'bin', 'secretary.js'), 'serve', '--port', '0', '--home', join(tmp.dir, 'plain')],
      base,
    );
    expect(plain).toMatch(/Secretary API listening/);
    expect(plain).toMatch(/MALLOC_ARENA_MAX is not set.*MALLOC_ARENA_MAX=2/);
  }, 150_000);
});
