/** Small request/response helpers of the fake server (plain `node:http`). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export const readBody = async (
  req: IncomingMessage,
  limit = 200 * 1024 * 1024,
): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const raw = await readBody(req);
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'the body must be a JSON object');
};

/** Parses a multipart body with the platform's own `Request.formData()`. */
export const readForm = async (req: IncomingMessage): Promise<FormData> => {
  const raw = await readBody(req);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
  try {
    return await new Request('http://fake.local/', {
      method: 'POST',
      headers,
      body: Readable.toWeb(Readable.from([raw])) as ReadableStream,
      duplex: 'half',
    } as RequestInit).formData();
  } catch (err) {
    throw new HttpError(400, `cannot parse the multipart body: ${(err as Error).message}`);
  }
};

export const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
};

/** The error body both APIs use (`{error: {message, type, code}}`, Mistral adds `object`). */
export const errorBody = (status: number, message: string) => ({
  object: 'error',
  message,
  error: {
    message,
    type:
      status === 429
        ? 'rate_limit_exceeded'
        : status >= 500
          ? 'server_error'
          : 'invalid_request_error',
    code: status,
  },
});

export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
