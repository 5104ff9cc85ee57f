/** Small pieces both office job types use. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import type { SecretaryConfig } from '../../config/defaults.js';
import type { SofficeOptions } from '../../processors/office/index.js';
import { param } from '../shared/input-file.js';

export const sofficeOptions = (config: SecretaryConfig): SofficeOptions => ({
  path: config.processors.office.soffice_path,
  timeoutMs: config.processors.office.soffice_timeout_sec * 1000,
  maxConcurrent: config.processors.office.max_concurrent_conversions,
});

/** The extension a downloaded input is stored with: the client's file name's, else `fallback`. */
export const officeInputExtension = (p: Record<string, unknown>, fallback: string): string => {
  const name = param<string>(p, 'original_filename') ?? param<string>(p, 'url') ?? param<string>(p, 'file_path') ?? '';
  const ext = extname(name.split('?')[0] ?? '').toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(ext) ? ext : fallback;
};

/** Writes a file so that readers see either the old or the complete new content. */
export const writeFileAtomic = async (path: string, content: string): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, path);
};

export const writeJsonAtomic = (path: string, value: unknown): Promise<void> => writeFileAtomic(path, JSON.stringify(value));
