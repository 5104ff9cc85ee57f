import { createRequire } from 'node:module';
import {
  existsSync,
  mkdirSync,
  symlinkSync,
  copyFileSync,
  readlinkSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';

/**
 * Tesseract language data comes from the npm packages `@tesseract.js-data/<lang>` (installed
 * with the project), never from a CDN. tesseract.js reads `<langPath>/<lang>.traineddata.gz`
 * from ONE directory, while every package has its own, so the files are linked into one
 * directory under the OS temp dir. The LSTM-only `4.0.0_best_int` models are used (what
 * tesseract.js itself picks for its default LSTM engine).
 */
const MODEL_DIR = '4.0.0_best_int';

const require = createRequire(import.meta.url);

const packageFile = (lang: string): string | null => {
  try {
    const pkgDir = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
    const file = path.join(pkgDir, MODEL_DIR, `${lang}.traineddata.gz`);
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
};

/** Languages (of `wanted`) whose data package is installed. */
export const installedLanguages = (wanted: readonly string[]): string[] =>
  wanted.filter((lang) => packageFile(lang) !== null);

/**
 * Returns a directory that holds `<lang>.traineddata.gz` for every installed language of
 * `langs`, creating links as needed. Safe when several processes do it at once.
 */
export const prepareLangPath = (langs: readonly string[]): string => {
  const sources = langs.map((lang) => [lang, packageFile(lang)] as const);
  const key = createHash('sha1')
    .update(sources.map(([l, f]) => `${l}=${f}`).join(';'))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(tmpdir(), `secretary-tessdata-${key}`);
  mkdirSync(dir, { recursive: true });
  for (const [lang, source] of sources) {
    if (!source) continue;
    const target = path.join(dir, `${lang}.traineddata.gz`);
    try {
      if (readlinkSync(target) === source) continue;
      unlinkSync(target);
    } catch {
      // missing or not a link: (re)create below
    }
    try {
      symlinkSync(source, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      copyFileSync(source, target);
    }
  }
  return dir;
};
