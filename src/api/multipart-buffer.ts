/**
 * A multipart body held whole in memory, parsed in one pass with `Buffer.indexOf`, for the
 * plain form every client sends (browsers, curl, Python `requests`, undici's `FormData`):
 * the body opens with the first delimiter, each part has a `Content-Disposition: form-data;
 * name="…"` header (with `filename="…"` for files) and at most a plain `Content-Type`, and the
 * body ends with the close delimiter. Busboy builds an event emitter, a header parser and a
 * readable stream for every part; for a ten-field upload that was most of the multipart cost.
 *
 * Anything else returns `null`, and the caller gives the same bytes to busboy: other headers,
 * parameters or encodings (`filename*`, escapes, charsets, non-ASCII header bytes), a
 * preamble or transport padding, a malformed body, and every limit or name the reader refuses.
 * So every rule and every error stays busboy's; this only answers, faster, what busboy would
 * answer for a valid form (`test/api/multipart-buffer.test.ts` compares the two).
 */

/** What the reader accepts; the fast path reads only forms within all of them. */
export interface MultipartLimits {
  /** Largest file in bytes. */
  fileSize: number;
  files: number;
  fields: number;
  /** Largest field value in bytes. */
  fieldSize: number;
}

export interface BufferedForm {
  fields: Record<string, string>;
  /** The first file part named `fileField`: its filename as busboy gives it, and its bytes. */
  file: { filename: string | undefined; data: Buffer } | null;
}

const CONTENT_TYPE =
  /^multipart\/form-data; ?boundary=(?:"([0-9A-Za-z'()+_,\-./:=?]{1,70})"|([0-9A-Za-z'()+_,\-./:=?]{1,70}))$/i;
/** Printable ASCII and line breaks, no backslash (escapes are busboy's). */
const PLAIN_HEAD = /^[\x20-\x5b\x5d-\x7e\r\n]*$/;
const HEADER_LINE = /^(content-disposition|content-type):[ \t]?([^ \t].*)$/i;
const DISPOSITION = /^form-data((?:; (?:name|filename)="[^"]*")+)$/;
const DISPOSITION_PARAM = /; (name|filename)="([^"]*)"/g;
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEAD = 8 * 1024;

interface PartHead {
  name: string;
  filename: string | undefined;
  type: string | undefined;
}

/** busboy's `basename`: the last path segment; `.` and `..` are no name. */
const basename = (path: string): string => {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const last = i === -1 ? path : path.slice(i + 1);
  return last === '.' || last === '..' ? '' : last;
};

const parseHead = (text: string): PartHead | null => {
  if (!PLAIN_HEAD.test(text)) return null;
  let disposition: string | undefined;
  let type: string | undefined;
  for (const line of text.split('\r\n')) {
    const m = HEADER_LINE.exec(line);
    if (!m) return null;
    if (m[1]!.toLowerCase() === 'content-type') {
      if (type !== undefined || !MEDIA_TYPE.test(m[2]!)) return null;
      type = m[2]!.toLowerCase();
    } else {
      if (disposition !== undefined) return null;
      disposition = m[2]!;
    }
  }
  const d = disposition === undefined ? null : DISPOSITION.exec(disposition);
  if (!d) return null;
  let name: string | undefined;
  let filename: string | undefined;
  for (const [, key, value] of d[1]!.matchAll(DISPOSITION_PARAM)) {
    if (key === 'name') {
      if (name !== undefined) return null;
      name = value!;
    } else {
      if (filename !== undefined) return null;
      filename = basename(value!);
    }
  }
  return name === undefined ? null : { name, filename, type };
};

/**
 * Parses `body` (the whole request body, `contentType` its header). `null`: not the plain
 * form, or a form the reader refuses; let busboy read it.
 */
export const parseBufferedMultipart = (
  body: Buffer,
  contentType: string,
  limits: MultipartLimits,
  fileField: string | null,
): BufferedForm | null => {
  const m = CONTENT_TYPE.exec(contentType);
  if (!m) return null;
  const open = Buffer.from(`--${m[1] ?? m[2]}`, 'latin1');
  const delimiter = Buffer.concat([Buffer.from('\r\n'), open]);
  if (body.length < open.length + 2 || !body.subarray(0, open.length).equals(open)) return null;
  const fields: Record<string, string> = {};
  let file: BufferedForm['file'] = null;
  let parts = 0;
  let files = 0;
  let fieldCount = 0;
  let at = open.length;
  for (;;) {
    // after a delimiter: "--" closes the body (an epilogue is ignored), CRLF opens a part
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return { fields, file };
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) return null;
    at += 2;
    const headEnd = body.indexOf(CRLF2, at);
    if (headEnd === -1 || headEnd - at > MAX_HEAD) return null;
    const head = parseHead(body.toString('latin1', at, headEnd));
    if (!head) return null;
    const start = headEnd + 4;
    // busboy lets the blank line's CRLF open a delimiter: content that starts with "--boundary"
    const end = body.indexOf(delimiter, headEnd + 2);
    if (end === -1 || end < start) return null;
    at = end + delimiter.length;
    if (++parts > limits.files + limits.fields) return null;
    if (head.filename !== undefined || head.type === 'application/octet-stream') {
      if (++files > limits.files || end - start > limits.fileSize) return null;
      if (head.name === fileField && !file)
        file = { filename: head.filename, data: body.subarray(start, end) };
    } else {
      if (++fieldCount > limits.fields || end - start > limits.fieldSize) return null;
      if (head.name in Object.prototype) return null;
      fields[head.name] = body.toString('utf8', start, end);
    }
  }
};
