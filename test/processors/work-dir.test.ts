/** Staged work dirs: concurrent commits onto one final dir all succeed and leave one complete dir. */
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStagedDir } from '../../src/processors/work-dir.js';
import { tempDir } from '../helpers/worker-fixtures.js';

const tmp = tempDir('secretary-workdir-');
afterAll(() => tmp.cleanup());

describe('createStagedDir', () => {
  it('many runs committing the same final dir at once all succeed; one complete dir remains', async () => {
    const final = join(tmp.dir, 'pdf', 'abc', 'mistral_ocr_with_pages_1234');
    for (let round = 0; round < 3; round++) {
      const staged = await Promise.all(Array.from({ length: 12 }, () => createStagedDir(final)));
      await Promise.all(
        staged.map(async (s, i) => {
          await writeFile(join(s.tempDir, 'a.txt'), `run ${i}`);
          await writeFile(join(s.tempDir, 'b.txt'), `run ${i}`);
        }),
      );
      await Promise.all(staged.map((s) => s.commit()));
      expect(readFileSync(join(final, 'a.txt'), 'utf8')).toBe(
        readFileSync(join(final, 'b.txt'), 'utf8'),
      );
      expect(readdirSync(join(tmp.dir, 'pdf', 'abc'))).toEqual(['mistral_ocr_with_pages_1234']);
    }
  });
});
