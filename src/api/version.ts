/** The package version (read once from package.json, two levels up from src/api or dist/api). */
import { readFileSync } from 'node:fs';

const read = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
};

export const VERSION = read();
