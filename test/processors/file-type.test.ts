import sharp from 'sharp';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { sniffFileType } from '../../src/processors/file-type.js';
import { dehyphenate } from '../../src/processors/pdf/index.js';
import { textPdf } from './helpers/make-docs.js';

describe('sniffFileType', () => {
  it('detects documents and images by their magic bytes', async () => {
    const blank = sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } });
    expect(sniffFileType(await textPdf([['x']]))).toBe('pdf');
    expect(sniffFileType(await blank.clone().png().toBuffer())).toBe('png');
    expect(sniffFileType(await blank.clone().jpeg().toBuffer())).toBe('jpeg');
    expect(sniffFileType(await blank.clone().gif().toBuffer())).toBe('gif');
    expect(sniffFileType(await blank.clone().webp().toBuffer())).toBe('webp');
    expect(sniffFileType(await blank.clone().tiff().toBuffer())).toBe('tiff');
    expect(sniffFileType(zipSync({ '[Content_Types].xml': strToU8('<x/>') }))).toBe('zip');
    expect(sniffFileType(Buffer.from('hello'))).toBe('unknown');
    expect(sniffFileType(new Uint8Array(0))).toBe('unknown');
    expect(sniffFileType(Buffer.from('junk before\n%PDF-1.4\n'))).toBe('pdf');
  });
});

describe('dehyphenate', () => {
  it('joins a hyphenated word when the next line continues in lower case', () => {
    expect(dehyphenate('Die Blüten-\npracht ist groß')).toBe('Die Blütenpracht ist groß');
    expect(dehyphenate('Über-  \n  übung')).toBe('Überübung');
    expect(dehyphenate('Wort\u00AD\nende')).toBe('Wortende');
    expect(dehyphenate('Nord-\nSüd-Achse')).toBe('Nord-\nSüd-Achse');
    expect(dehyphenate('Liste:\n- erster\n- zweiter')).toBe('Liste:\n- erster\n- zweiter');
    expect(dehyphenate('3-\n4')).toBe('3-\n4');
  });
});
