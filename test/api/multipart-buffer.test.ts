/**
 * The in-memory multipart parser against busboy, the parser it stands in for: wherever it
 * answers, busboy (with the reader's rules: limits, prototype names) must answer the same
 * fields and the same file; everything else it must leave to busboy (`null`). Real client
 * bodies (undici's FormData, curl, Python requests, the bench's encoder) must take the fast
 * path, or it would be dead code.
 */
import { Busboy } from '@fastify/busboy';
import { describe, expect, it } from 'vitest';
import { parseBufferedMultipart } from '../../src/api/multipart-buffer.js';
import type { MultipartLimits } from '../../src/api/multipart-buffer.js';

const limits: MultipartLimits = { fileSize: 2048, files: 3, fields: 6, fieldSize: 256 };

interface Form {
  fields: Record<string, string>;
  file: { filename: string | undefined; data: string } | null;
}
type Outcome = 'refused' | Form;

/** What busboy makes of a body under the reader's rules (multipart-reader.ts). */
const viaBusboy = (body: Buffer, type: string): Promise<Outcome> =>
  new Promise((resolve) => {
    let bb: ReturnType<typeof Busboy>;
    try {
      bb = Busboy({
        headers: { 'content-type': type },
        limits: { ...limits, parts: limits.files + limits.fields },
      });
    } catch {
      return resolve('refused');
    }
    const fields: Record<string, string> = {};
    let file: Form['file'] = null;
    let refused = false;
    const ends: Promise<void>[] = [];
    bb.on('field', (name: string, value: string, _nameCut: boolean, valueCut: boolean) => {
      if (name in Object.prototype || valueCut) refused = true;
      else fields[name] = value;
    });
    bb.on('file', (name: string, stream: NodeJS.ReadableStream, filename: string) => {
      const chunks: Buffer[] = [];
      const mine = name === 'file' && file === null;
      if (mine) file = { filename, data: '' };
      stream.on('limit', () => (refused = true));
      stream.on('data', (c: Buffer) => chunks.push(c));
      ends.push(
        new Promise((r) =>
          stream.on('end', () => {
            if (mine) file!.data = Buffer.concat(chunks).toString('latin1');
            r();
          }),
        ),
      );
    });
    for (const e of ['partsLimit', 'filesLimit', 'fieldsLimit']) bb.on(e, () => (refused = true));
    bb.on('error', () => resolve('refused'));
    bb.on('finish', () => {
      void Promise.all(ends).then(() => resolve(refused ? 'refused' : { fields, file }));
    });
    bb.end(body);
  });

const fast = (body: Buffer, type: string): Form | null => {
  const r = parseBufferedMultipart(body, type, limits, 'file');
  return (
    r && {
      fields: { ...r.fields },
      file: r.file && { filename: r.file.filename, data: r.file.data.toString('latin1') },
    }
  );
};

/** Asserts the fast parser agrees with busboy; returns whether it answered. */
const agrees = async (body: Buffer, type: string, what: string): Promise<boolean> => {
  const got = fast(body, type);
  if (got === null) return false;
  expect(got, what).toEqual(await viaBusboy(body, type));
  return true;
};

const B = 'XyZ-123';
const TYPE = `multipart/form-data; boundary=${B}`;
const part = (headers: string[], content: string): string =>
  `--${B}\r\n${headers.join('\r\n')}\r\n\r\n${content}\r\n`;
const field = (name: string, value: string) =>
  part([`Content-Disposition: form-data; name="${name}"`], value);
const filePart = (name: string, filename: string, content: string, type = 'application/pdf') =>
  part(
    [
      `Content-Disposition: form-data; name="${name}"; filename="${filename}"`,
      `Content-Type: ${type}`,
    ],
    content,
  );
const body = (...parts: string[]) => Buffer.from(`${parts.join('')}--${B}--\r\n`, 'latin1');

/** Bodies the fast path must answer, and exactly as busboy does. */
const plain: Array<[string, Buffer]> = [
  [
    'fields and a file',
    body(
      field('a', '1'),
      filePart('file', 'doc.pdf', '%PDF-1.7\r\nbinary\x00\xff'),
      field('b', ''),
    ),
  ],
  ['no parts', Buffer.from(`--${B}--\r\n`)],
  ['only fields', body(field('useCache', 'false'), field('callback_url', 'http://x/y?z=1'))],
  [
    'UTF-8 values',
    Buffer.concat([
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="t"\r\n\r\n`),
      Buffer.from('Grüße 🌍'),
      Buffer.from(`\r\n--${B}--`),
    ]),
  ],
  ['an empty file', body(filePart('file', 'empty.pdf', ''))],
  [
    'content that nearly holds the delimiter',
    body(
      filePart('file', 'x.pdf', `a\r\n--${B.slice(0, 4)}b\r\n--\r\n${B}`),
      field('c', `-${B}--${B}`),
    ),
  ],
  [
    'a second file part named file',
    body(filePart('file', 'one.pdf', 'ONE'), filePart('file', 'two.pdf', 'TWO')),
  ],
  ['another file part', body(filePart('other', 'o.bin', 'O'), filePart('file', 'f.pdf', 'F'))],
  ['duplicate field names (the last wins)', body(field('a', '1'), field('a', '2'))],
  [
    'octet-stream without filename is a file',
    body(
      part(
        ['Content-Disposition: form-data; name="file"', 'Content-Type: application/octet-stream'],
        'RAW',
      ),
    ),
  ],
  [
    'a field with a plain content type',
    body(part(['Content-Disposition: form-data; name="f"', 'Content-Type: text/plain'], 'v')),
  ],
  [
    'headers in another case and order',
    body(
      part(
        [
          'content-type: application/pdf',
          'CONTENT-DISPOSITION: form-data; name="file"; filename="up.pdf"',
        ],
        'U',
      ),
    ),
  ],
  ['a path in the filename', body(filePart('file', '/tmp/a/../b.pdf', 'P'))],
  ['filename . and ..', body(filePart('file', '..', 'D'), filePart('x', '.', 'E'))],
  ['an empty filename', body(filePart('file', '', 'N'))],
  [
    'percent signs and semicolons in names',
    body(field('%41', 'p'), filePart('file', 'a;b %41.pdf', 'S')),
  ],
  [
    'an epilogue after the close delimiter',
    Buffer.concat([body(field('a', '1')), Buffer.from('trailing words\r\n')]),
  ],
  ['no CRLF after the close delimiter', Buffer.from(`${field('a', '1')}--${B}--`)],
  ['quoted boundary', body(field('q', '1'))],
  [
    'exactly at every limit',
    body(
      field('f1', 'x'.repeat(256)),
      field('f2', ''),
      field('f3', ''),
      field('f4', ''),
      field('f5', ''),
      field('f6', ''),
      filePart('file', 'a.pdf', 'y'.repeat(2048)),
      filePart('o', 'b', ''),
      filePart('o', 'c', ''),
    ),
  ],
];

/** Bodies the fast path must leave to busboy. */
const other: Array<[string, Buffer, string?]> = [
  // busboy lets the blank line's CRLF open a delimiter and drops the field
  ['content that starts with the delimiter', body(field('c', `--${B}`))],
  ['a preamble', Buffer.concat([Buffer.from('preamble\r\n'), body(field('a', '1'))])],
  ['a leading CRLF', Buffer.concat([Buffer.from('\r\n'), body(field('a', '1'))])],
  [
    'transport padding',
    Buffer.from(`--${B}  \r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${B}--`),
  ],
  ['no close delimiter', Buffer.from(`${field('a', '1')}`)],
  [
    'an unterminated part',
    Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated`),
  ],
  ['an empty body', Buffer.alloc(0)],
  [
    'LF line ends',
    Buffer.from(`--${B}\nContent-Disposition: form-data; name="a"\n\n1\n--${B}--\n`),
  ],
  [
    'filename*',
    body(part([`Content-Disposition: form-data; name="file"; filename*=UTF-8''%C3%A4.pdf`], 'X')),
  ],
  ['an escaped quote', body(part(['Content-Disposition: form-data; name="a\\"b"'], 'X'))],
  ['a backslash path', body(filePart('file', 'C:\\docs\\a.pdf', 'W'))],
  [
    'non-ASCII header bytes',
    Buffer.concat([
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="`),
      Buffer.from('ä.pdf'),
      Buffer.from(`"\r\n\r\nX\r\n--${B}--`),
    ]),
  ],
  [
    'another header',
    body(
      part(
        ['Content-Disposition: form-data; name="a"', 'Content-Transfer-Encoding: base64'],
        'eA==',
      ),
    ),
  ],
  ['a folded header', body(part(['Content-Disposition: form-data;', ' name="a"'], '1'))],
  [
    'two dispositions',
    body(
      part(
        ['Content-Disposition: form-data; name="a"', 'Content-Disposition: form-data; name="b"'],
        '1',
      ),
    ),
  ],
  ['no name', body(part(['Content-Disposition: form-data; filename="a.pdf"'], '1'))],
  ['an unquoted name', body(part(['Content-Disposition: form-data; name=a'], '1'))],
  ['attachment, not form-data', body(part(['Content-Disposition: attachment; name="a"'], '1'))],
  [
    'a charset on a field',
    body(
      part(
        ['Content-Disposition: form-data; name="a"', 'Content-Type: text/plain; charset=latin1'],
        '\xe4',
      ),
    ),
  ],
  ['no disposition', body(part(['Content-Type: text/plain'], '1'))],
  ['a field over fieldSize', body(field('a', 'x'.repeat(257)))],
  ['a file over fileSize', body(filePart('file', 'a.pdf', 'y'.repeat(2049)))],
  ['too many fields', body(...Array.from({ length: 7 }, (_, i) => field(`f${i}`, 'v')))],
  ['too many files', body(...Array.from({ length: 4 }, (_, i) => filePart(`f${i}`, 'a', 'v')))],
  [
    'too many parts',
    body(
      ...Array.from({ length: 6 }, (_, i) => field(`f${i}`, 'v')),
      ...Array.from({ length: 3 }, (_, i) => filePart(`g${i}`, 'a', 'v')),
      field('z', 'v'),
    ),
  ],
  ['a prototype name', body(field('constructor', 'x'))],
  ['__proto__', body(field('__proto__', 'x'))],
  ['another boundary in the header', body(field('a', '1')), 'multipart/form-data; boundary=other'],
  [
    'a charset before the boundary',
    body(field('a', '1')),
    `multipart/form-data; charset=utf-8; boundary=${B}`,
  ],
  ['no boundary', body(field('a', '1')), 'multipart/form-data'],
];

describe('in-memory multipart parser', () => {
  it.each(plain)('answers %s as busboy does', async (what, b) => {
    const type = what === 'quoted boundary' ? `multipart/form-data; boundary="${B}"` : TYPE;
    expect(await agrees(b, type, what), `${what}: took the fast path`).toBe(true);
  });

  it.each(other)('leaves %s to busboy', (what, b, type) => {
    expect(fast(b, type ?? TYPE)).toBeNull();
  });

  it('takes the fast path for real clients, and agrees with busboy', async () => {
    const fd = new FormData();
    fd.append('useCache', 'false');
    fd.append('callback_url', 'http://127.0.0.1:8090/api/external/jobs/1');
    fd.append('file', new Blob([Buffer.from('%PDF-1.4\r\n\x00\x01binary')]), 'Bericht März.pdf');
    const req = new Request('http://x/', { method: 'POST', body: fd });
    const undici = Buffer.from(await req.arrayBuffer());
    // curl -F and Python requests (urllib3) write the same shape with their own boundaries
    const curl = Buffer.from(
      '--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name="useCache"\r\n\r\nfalse\r\n' +
        '--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name="file"; filename="test1.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n' +
        '--------------------------d74496d66958873e--\r\n',
    );
    const requests = Buffer.from(
      '--7f3b0e4c2a9d4f1e8b6c5a4d3e2f1a0b\r\nContent-Disposition: form-data; name="includeOCRImages"\r\n\r\ntrue\r\n' +
        '--7f3b0e4c2a9d4f1e8b6c5a4d3e2f1a0b\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n\r\n%PDF\r\n' +
        '--7f3b0e4c2a9d4f1e8b6c5a4d3e2f1a0b--\r\n',
    );
    // undici writes the filename's UTF-8 bytes: busboy's job, and it answers the same
    expect(fast(undici, req.headers.get('content-type')!)).toBeNull();
    fd.set('file', new Blob([Buffer.from('%PDF-1.4\r\n\x00\x01binary')]), 'Bericht.pdf');
    const ascii = new Request('http://x/', { method: 'POST', body: fd });
    const cases: Array<[string, Buffer, string]> = [
      ['undici', Buffer.from(await ascii.arrayBuffer()), ascii.headers.get('content-type')!],
      ['curl', curl, 'multipart/form-data; boundary=------------------------d74496d66958873e'],
      ['requests', requests, 'multipart/form-data; boundary=7f3b0e4c2a9d4f1e8b6c5a4d3e2f1a0b'],
    ];
    for (const [what, b, type] of cases) {
      expect(await agrees(b, type, what), `${what}: took the fast path`).toBe(true);
      expect(fast(b, type)!.file!.data).toMatch(/^%PDF/);
    }
  });

  it('never answers differently from busboy on mutated bodies', async () => {
    const seeds = plain.map(([, b]) => b);
    let state = 42;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    const alphabet = Buffer.from(`-\r\n"=;: \\ax${B}`);
    let answered = 0;
    for (let i = 0; i < 3000; i++) {
      const seed = seeds[rand(seeds.length)]!;
      const b = Buffer.from(seed);
      const edits = 1 + rand(3);
      let m: Buffer = b;
      for (let e = 0; e < edits; e++) {
        const at = rand(m.length + 1);
        const byte = alphabet.subarray(rand(alphabet.length), undefined).subarray(0, 1);
        const op = rand(3);
        m =
          op === 0
            ? Buffer.concat([m.subarray(0, at), byte, m.subarray(at)])
            : op === 1
              ? Buffer.concat([m.subarray(0, at), m.subarray(at + 1)])
              : Buffer.concat([m.subarray(0, at), byte, m.subarray(at + 1)]);
      }
      if (await agrees(m, TYPE, `mutation ${i}: ${JSON.stringify(m.toString('latin1'))}`))
        answered++;
    }
    // the fast path answered a good share of them, so the comparison was not vacuous
    expect(answered).toBeGreaterThan(300);
  });
});
