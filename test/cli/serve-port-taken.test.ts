/**
 * `secretary serve` on a port that is taken stops without touching the queue: the worker starts
 * only once the port is bound. (It used to start first, claim the pending jobs and run them
 * through its shutdown before it said the port was taken.) A real process and a real port.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { runForOutput } from '../helpers/process-output.js';
import { tempDir } from '../helpers/worker-fixtures.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'secretary.js');
const home = tempDir('secretary-port-taken-');
let blocker: Server | null = null;
afterAll(() => {
  blocker?.close();
  home.cleanup();
});

it('exits with the port message and leaves the pending jobs unclaimed', async () => {
  const url = 'sqlite:data/secretary.db';
  const store = await createStore({ url, home: home.dir });
  const { job } = await store.createJob({ job_type: 'echo', parameters: { sleep_ms: 2_000 } });
  await store.close();

  blocker = createServer();
  await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as AddressInfo).port;

  const { code, output } = await runForOutput(
    process.execPath,
    [bin, 'serve', '--port', String(port), '--home', home.dir],
    { env: { ...process.env, MALLOC_ARENA_MAX: '2' } },
  );
  expect(code).not.toBe(0);
  expect(output).toMatch(/is already in use.*--port/);
  expect(output).not.toMatch(/worker started/);

  const after = await createStore({ url, home: home.dir });
  try {
    const j = await after.getJob(job.job_id);
    expect(j).toMatchObject({ status: 'pending', attempts: 0 });
  } finally {
    await after.close();
  }
}, 60_000);
