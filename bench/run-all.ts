/**
 * `npm run bench`: every benchmark in turn, JSON lines on stdout (diagnostics on stderr).
 *   npm run bench [-- --quick] [--store <url>]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const pass = process.argv.slice(2);
const quick = pass.includes('--quick');
const storeAt = pass.indexOf('--store');
const store = storeAt >= 0 ? ['--store', pass[storeAt + 1] ?? ''] : [];
const runs: [string, string[]][] = [
  ['core.ts', [...store, ...(quick ? ['--quick'] : [])]],
  ['api.ts', []],
  ['pdf.ts', quick ? ['--quick'] : []],
  ['mistral.ts', quick ? ['--quick'] : []],
  ['media.ts', quick ? ['--quick'] : []],
  ['office.ts', quick ? ['--quick'] : []],
  ['dashboard.ts', quick ? ['--jobs', '2000'] : []],
  ['llm.ts', quick ? ['--quick'] : []],
  ['session.ts', quick ? ['--quick'] : []],
];
let failed = 0;
for (const [file, args] of runs) {
  process.stderr.write(`== bench ${file} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, file), ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
