/**
 * `startFakeProviders()`: a loopback HTTP server speaking the OpenAI chat-completions and
 * audio-transcriptions APIs (`<url>/openai/v1`, also `<url>/v1`) and Mistral's chat, files and
 * OCR APIs (`<url>/mistral/v1`), with deterministic answers derived from each request,
 * configurable latency, scripted faults and a request log. Tests, benchmarks and people (via
 * `npm run fake-providers`) point the real SDK clients at it.
 *
 * Control over HTTP (for a fake in another process): `GET /_fake/requests`,
 * `POST /_fake/faults {route, faults: [...]}`, `POST /_fake/latency {latency_ms}`, `POST /_fake/reset`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerChat, type ChatBody } from './chat-answer.js';
import { applyFault, FaultQueue, parseDirectives } from './faults.js';
import { errorBody, HttpError, readForm, readJson, sendJson, sleep } from './http-io.js';
import { OcrInputError, ocrPdf } from './mistral-ocr.js';
import { transcribe, transcriptionBody } from './openai-audio.js';
import {
  FAKE_ROUTES,
  type FakeProviders,
  type FakeProvidersOptions,
  type FakeRoute,
  type Fault,
  type Latency,
  type RequestLogEntry,
} from './types.js';

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  entry: RequestLogEntry;
  /** Aborted when the client closes the connection. */
  signal: AbortSignal;
}

const ROUTES: Array<[string, RegExp, FakeRoute]> = [
  ['POST', /^\/(?:openai\/)?v1\/chat\/completions$/, 'openai.chat'],
  ['POST', /^\/(?:openai\/)?v1\/audio\/transcriptions$/, 'openai.transcriptions'],
  ['GET', /^\/(?:openai\/)?v1\/models$/, 'openai.models'],
  ['POST', /^\/mistral\/v1\/chat\/completions$/, 'mistral.chat'],
  ['POST', /^\/mistral\/v1\/files$/, 'mistral.files.upload'],
  ['DELETE', /^\/mistral\/v1\/files\/[^/]+$/, 'mistral.files.delete'],
  ['POST', /^\/mistral\/v1\/ocr$/, 'mistral.ocr'],
];

/** mulberry32: a tiny seeded PRNG, so latency ranges repeat from run to run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

export const startFakeProviders = async (
  opts: FakeProvidersOptions = {},
): Promise<FakeProviders> => {
  const faults = new FaultQueue();
  const log: RequestLogEntry[] = [];
  const files = new Map<string, { bytes: Buffer; filename: string; purpose: string }>();
  const seenOnce = new Set<string>();
  const maxLog = opts.maxLogEntries ?? 10_000;
  const ocrMaxBytes = opts.ocrMaxBytes ?? 50 * 1024 * 1024;
  const ocrMaxPages = opts.ocrMaxPages ?? 1000;
  let latency: Latency = opts.latencyMs ?? 0;
  const random = prng(opts.seed ?? 1);
  let seq = 0;

  const latencyNow = (): number =>
    typeof latency === 'number'
      ? latency
      : Math.round(latency[0] + random() * (latency[1] - latency[0]));

  const chatCompletion = async (ctx: Ctx, body: ChatBody, route: FakeRoute): Promise<void> => {
    const text = JSON.stringify(body.messages ?? []);
    const d = parseDirectives(text);
    ctx.entry.summary = {
      model: body.model,
      messages: Array.isArray(body.messages) ? body.messages.length : 0,
      response_format: body.response_format?.type ?? null,
      schema: body.response_format?.json_schema?.name ?? null,
      temperature: (body as Record<string, unknown>).temperature ?? null,
      max_tokens: (body as Record<string, unknown>).max_tokens ?? null,
    };
    if (d.delayMs) await sleep(d.delayMs, ctx.signal);
    if (d.status) throw new HttpError(d.status, `scripted failure [[fake:status=${d.status}]]`);
    let malformed = d.malformed ?? false;
    if (d.malformedOnce) {
      const key = createHash('sha256').update(text).digest('hex');
      if (!seenOnce.has(key)) {
        seenOnce.add(key);
        malformed = true;
      }
    }
    const a = await answerChat(body, { malformed, fence: d.fence, empty: d.empty });
    ctx.entry.summary.images = a.images;
    sendJson(ctx.res, 200, {
      id: `chatcmpl-fake-${ctx.entry.seq}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? (route === 'mistral.chat' ? 'mistral-small-latest' : 'gpt-4o-mini'),
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: a.text, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: a.promptTokens,
        completion_tokens: a.completionTokens,
        total_tokens: a.promptTokens + a.completionTokens,
      },
    });
  };

  const handlers: Record<FakeRoute, (ctx: Ctx) => Promise<void>> = {
    'openai.chat': async (ctx) =>
      chatCompletion(ctx, (await readJson(ctx.req)) as ChatBody, 'openai.chat'),
    'mistral.chat': async (ctx) =>
      chatCompletion(ctx, (await readJson(ctx.req)) as ChatBody, 'mistral.chat'),
    'openai.models': async (ctx) => {
      sendJson(ctx.res, 200, {
        object: 'list',
        data: ['gpt-4o-mini', 'gpt-4o', 'whisper-1'].map((id) => ({
          id,
          object: 'model',
          owned_by: 'fake',
        })),
      });
    },
    'openai.transcriptions': async (ctx) => {
      const form = await readForm(ctx.req);
      const file = form.get('file');
      if (!(file instanceof Blob)) throw new HttpError(400, 'file is required');
      const bytes = Buffer.from(await file.arrayBuffer());
      const name = (file as File).name || 'audio';
      const language = (form.get('language') as string | null) || null;
      const format = (form.get('response_format') as string | null) || 'json';
      ctx.entry.summary = {
        model: form.get('model'),
        file_name: name,
        bytes: bytes.length,
        language,
        response_format: format,
        prompt: form.get('prompt'),
      };
      // like a real server: the upload is read first, then the model takes its time (a
      // server that does not read the upload stalls it, and an aborted upload then never
      // closes its connection, so the abort would not show in the log)
      await sleep(latencyNow(), ctx.signal);
      if (ctx.signal.aborted) return;
      const out = transcriptionBody(transcribe(bytes, name, language), format);
      ctx.res.writeHead(200, { 'content-type': out.contentType });
      ctx.res.end(out.body);
    },
    'mistral.files.upload': async (ctx) => {
      const form = await readForm(ctx.req);
      const file = form.get('file');
      if (!(file instanceof Blob)) throw new HttpError(400, 'file is required');
      const bytes = Buffer.from(await file.arrayBuffer());
      const id = randomUUID();
      const filename = (file as File).name || 'upload.pdf';
      const purpose = String(form.get('purpose') ?? '');
      files.set(id, { bytes, filename, purpose });
      ctx.entry.summary = { file_id: id, filename, bytes: bytes.length, purpose };
      sendJson(ctx.res, 200, {
        id,
        object: 'file',
        bytes: bytes.length,
        created_at: Math.floor(Date.now() / 1000),
        filename,
        purpose,
        sample_type: 'ocr_input',
        source: 'upload',
        num_lines: null,
      });
    },
    'mistral.files.delete': async (ctx) => {
      const id = decodeURIComponent(ctx.req.url!.split('?')[0]!.split('/').pop()!);
      ctx.entry.summary = { file_id: id };
      if (!files.delete(id)) throw new HttpError(404, `No file with id ${id}`);
      sendJson(ctx.res, 200, { id, object: 'file', deleted: true });
    },
    'mistral.ocr': async (ctx) => {
      const body = await readJson(ctx.req);
      const doc = (body.document ?? {}) as Record<string, unknown>;
      const pages = Array.isArray(body.pages) ? (body.pages as number[]) : null;
      ctx.entry.summary = {
        model: body.model,
        document_type: doc.type ?? null,
        file_id: doc.file_id ?? null,
        pages,
        include_image_base64: body.include_image_base64 ?? false,
      };
      let bytes: Buffer;
      if (doc.type === 'file' && typeof doc.file_id === 'string') {
        const f = files.get(doc.file_id);
        if (!f) throw new HttpError(404, `No file with id ${doc.file_id}`);
        bytes = f.bytes;
      } else if (doc.type === 'document_url' && typeof doc.document_url === 'string') {
        const m = /^data:[^;,]*;base64,(.*)$/s.exec(doc.document_url);
        if (!m) throw new HttpError(400, 'the fake reads only data: document URLs');
        bytes = Buffer.from(m[1]!, 'base64');
      } else
        throw new HttpError(
          422,
          'document must be {type: "file", file_id} or {type: "document_url", document_url}',
        );
      if (bytes.length > ocrMaxBytes) {
        throw new HttpError(
          400,
          `Document size ${bytes.length} bytes exceeds the maximum of ${ocrMaxBytes} bytes`,
        );
      }
      try {
        const answer = ocrPdf(bytes, {
          model: typeof body.model === 'string' ? body.model : 'mistral-ocr-latest',
          pages,
          includeImageBase64: body.include_image_base64 === true,
          maxPages: ocrMaxPages,
        });
        ctx.entry.summary.pages_processed = answer.usage_info.pages_processed;
        sendJson(ctx.res, 200, answer);
      } catch (err) {
        if (err instanceof OcrInputError) throw new HttpError(err.status, err.message);
        throw err;
      }
    },
  };

  const control = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> => {
    if (req.method === 'GET' && path === '/_fake/requests')
      return sendJson(res, 200, { requests: log });
    if (req.method === 'POST' && path === '/_fake/reset') {
      api.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/_fake/faults') {
      const b = await readJson(req);
      const route = b.route as FakeRoute | '*';
      if (route !== '*' && !FAKE_ROUTES.includes(route))
        throw new HttpError(400, `route must be * or one of ${FAKE_ROUTES.join(', ')}`);
      faults.push(route, (Array.isArray(b.faults) ? b.faults : []) as Fault[]);
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/_fake/latency') {
      const b = await readJson(req);
      latency = b.latency_ms as Latency;
      return sendJson(res, 200, { ok: true });
    }
    throw new HttpError(404, `no control route ${req.method} ${path}`);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith('/_fake/')) {
      control(req, res, path).catch((err: unknown) => {
        if (!res.headersSent)
          sendJson(
            res,
            err instanceof HttpError ? err.status : 500,
            errorBody(500, String((err as Error).message)),
          );
      });
      return;
    }
    const found = ROUTES.find(([m, re]) => m === req.method && re.test(path));
    const started = Date.now();
    const entry: RequestLogEntry = {
      seq: ++seq,
      route: found?.[2] ?? 'unknown',
      method: req.method ?? 'GET',
      path,
      status: null,
      aborted: false,
      authorized: /^Bearer \S+/.test(req.headers.authorization ?? ''),
      startedAt: new Date(started).toISOString(),
      durationMs: null,
      summary: {},
      fault: null,
    };
    log.push(entry);
    if (log.length > maxLog) log.splice(0, log.length - maxLog);
    const ac = new AbortController();
    // 'finish': the answer is handed to the socket (before the client can send its next
    // request); 'close' without it: the client went away first
    res.on('finish', () => {
      entry.durationMs = Date.now() - started;
      entry.status = res.statusCode;
    });
    res.on('close', () => {
      if (res.writableFinished) return;
      entry.durationMs = Date.now() - started;
      entry.aborted = true;
      ac.abort();
    });
    const ctx: Ctx = { req, res, entry, signal: ac.signal };
    const run = async (): Promise<void> => {
      if (!found) throw new HttpError(404, `the fake does not serve ${req.method} ${path}`);
      if (opts.requireKey && req.headers.authorization !== `Bearer ${opts.requireKey}`) {
        throw new HttpError(401, 'Incorrect API key provided');
      }
      const route = found[2];
      const fault = faults.take(route);
      entry.fault = fault;
      if (fault && (await applyFault(ctx, fault))) return;
      // (transcriptions sleep in their handler, after reading the upload)
      if (route === 'openai.chat' || route === 'mistral.chat' || route === 'mistral.ocr') {
        await sleep(latencyNow(), ac.signal);
      }
      if (ac.signal.aborted) return;
      await handlers[route](ctx);
    };
    run().catch((err: unknown) => {
      if (res.headersSent || ac.signal.aborted) return;
      const status = err instanceof HttpError ? err.status : 500;
      sendJson(res, status, errorBody(status, (err as Error).message));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`;
  const api: FakeProviders = {
    url,
    port,
    openaiBaseUrl: `${url}/openai/v1`,
    mistralBaseUrl: `${url}/mistral/v1`,
    env: {
      OPENAI_BASE_URL: `${url}/openai/v1`,
      MISTRAL_BASE_URL: `${url}/mistral/v1`,
      OPENAI_API_KEY: opts.requireKey ?? 'fake-key',
      MISTRAL_API_KEY: opts.requireKey ?? 'fake-key',
    },
    get requests() {
      return log;
    },
    requestsOf: (route) => log.filter((e) => e.route === route),
    fail: (route, ...f) => faults.push(route, f),
    get storedFiles() {
      return files.size;
    },
    setLatency: (l) => {
      latency = l;
    },
    reset: () => {
      log.length = 0;
      faults.clear();
      files.clear();
      seenOnce.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
};
