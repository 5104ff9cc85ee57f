/**
 * Whether the real LibreOffice is here. Tests of real conversions skip without it, with a
 * visible reason — except in CI (`CI=true`), where `.ci/run` installs it: there a missing
 * soffice must fail those tests, not hide behind a skip.
 */
import { spawnSync } from 'node:child_process';

export const hasSoffice = spawnSync('sh', ['-c', 'command -v soffice'], { stdio: 'ignore' }).status === 0;

export const skipWithoutSoffice = (suite: string): boolean => {
  if (hasSoffice) return false;
  if (process.env.CI === 'true') return false;
  console.warn(`[${suite}] soffice is not installed: real LibreOffice conversions are skipped (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)`);
  return true;
};
