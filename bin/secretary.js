#!/usr/bin/env node
// Entry point of the `secretary` command. In a source checkout it runs src/ through tsx,
// so a clone never runs a stale build; an installed package without src/ runs dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

// libuv's thread pool (default 4) carries every fs call of the event loop *and* sharp's image
// encodes from the CPU threads; with 4 threads a burst of page encodes delays upload writes
// and so the ACK of new jobs (measured: 50 simultaneous Mistral uploads ACK 2-3x faster with
// 16; bench/mistral.ts). It must be set before the pool starts; an explicit value wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'cli', 'main.ts');
if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(src).href);
} else {
  await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
}
