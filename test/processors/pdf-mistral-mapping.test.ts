/** Pure parts of the Mistral OCR mapping: image file names, reference rewriting, chunk spans. */
import { describe, expect, it } from 'vitest';
import { planSpans, spanLabel } from '../../src/processors/pdf/mistral-ocr-chunks.js';
import {
  imageFileName,
  imageRefs,
  rewriteImageRefs,
  stripDataUrl,
} from '../../src/processors/pdf/mistral-ocr-pages.js';

describe('OCR answer mapping', () => {
  it('names image files by their bytes and rewrites exactly the references it renamed', () => {
    expect(imageFileName('img-0.jpeg', 'jpeg')).toBe('img-0.jpeg');
    expect(imageFileName('img-0.jpg', 'jpeg')).toBe('img-0.jpg');
    expect(imageFileName('img-0.jpeg', 'png')).toBe('img-0.png');
    expect(imageFileName('img-1', 'png')).toBe('img-1.png');
    expect(imageFileName('../../etc/x.jpeg', 'jpeg')).toBe('x.jpeg');
    expect(imageFileName('img-2.jpeg', null)).toBe('img-2.jpeg');
    const md =
      '![img-0.jpeg](img-0.jpeg) text ![a photo](img-1.jpeg) ![x](other.png) [img-0.jpeg](img-0.jpeg)';
    const out = rewriteImageRefs(
      md,
      new Map([
        ['img-0.jpeg', 'img-0.png'],
        ['img-1.jpeg', 'p002-img-1.jpeg'],
      ]),
    );
    expect(out).toBe(
      '![img-0.png](img-0.png) text ![a photo](p002-img-1.jpeg) ![x](other.png) [img-0.jpeg](img-0.jpeg)',
    );
    expect(imageRefs(out)).toEqual(['img-0.png', 'p002-img-1.jpeg', 'other.png']);
    expect(stripDataUrl('data:image/jpeg;base64,AAAA')).toBe('AAAA');
    expect(stripDataUrl('AAAA')).toBe('AAAA');
  });

  it('plans spans of at most the page limit over the range', () => {
    expect(planSpans(1, 120, 50)).toEqual([
      { first: 1, last: 50 },
      { first: 51, last: 100 },
      { first: 101, last: 120 },
    ]);
    expect(planSpans(7, 7, 50)).toEqual([{ first: 7, last: 7 }]);
    expect(spanLabel({ first: 51, last: 100 })).toBe('page 51–100');
  });
});
