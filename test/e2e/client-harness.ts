/**
 * A client-shaped end-to-end harness: a real `secretary` runtime (SQLite store, worker, webhook
 * dispatcher) listening on a loopback port, the fake OpenAI/Mistral APIs, and a loopback
 * receiver that behaves like the real client's synchronous receiver: on `completed` it
 * downloads every artifact URL before it answers. Helpers submit multipart uploads with the
 * client's headers and check callback sequences against client-contract §3.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import { startServer } from '../../src/api/server.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import {
  startReceiver,
  type ReceivedRequest,
  type Receiver,
  type WireJson,
} from '../webhooks/receiver.js';

const KEY = 'secretary-test-key';

export interface Download {
  url: string;
  status: number;
  type: string | null;
  bytes: Uint8Array;
}

const FINAL_KEYS = [
  'extracted_text',
  'images_archive_url',
  'pages_archive_url',
  'mistral_ocr_raw_url',
  'mistral_ocr_raw_metadata',
  'mistral_ocr_raw',
  'transcription',
  'result',
];

export const isTerminal = (r: ReceivedRequest): boolean =>
  r.body.phase === 'completed' || r.body.phase === 'error';

/** The `--- Seite N ---` page numbers of an extracted text, in order. */
export const markers = (text: string): number[] =>
  [...text.matchAll(/^--- Seite (\d+) ---$/gm)].map((m) => Number(m[1]));

/** Every `![…](name)` target of a Markdown text. */
export const refsOf = (text: string): string[] =>
  [...text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);

/**
 * The sequence rules of client-contract §3: every callback of the job carries its id and its
 * own token; progress has a number and no final markers; exactly one terminal callback, last.
 */
export const expectSequence = (
  calls: ReceivedRequest[],
  jobId: string,
  token: string,
  terminal: 'completed' | 'error',
): ReceivedRequest => {
  expect(calls.length).toBeGreaterThan(1);
  for (const c of calls) {
    expect(c.body.process?.id).toBe(jobId);
    expect(c.headers['x-callback-token']).toBe(token);
    expect(c.headers.authorization).toBe(`Bearer ${token}`);
  }
  const terminals = calls.filter(isTerminal);
  expect(terminals).toHaveLength(1);
  expect(calls.at(-1)).toBe(terminals[0]);
  for (const p of calls.slice(0, -1)) {
    expect(typeof p.body.progress).toBe('number');
    expect(['completed', 'failed', 'error', 'template_completed']).not.toContain(p.body.phase);
    expect(p.body.status).toBeUndefined();
    expect(p.body.error).toBeUndefined();
    for (const k of FINAL_KEYS) expect(p.body.data?.[k]).toBeUndefined();
  }
  expect(terminals[0]!.body.phase).toBe(terminal);
  return terminals[0]!;
};

export interface ClientHarness {
  fake: FakeProviders;
  base: string;
  auth: Record<string, string>;
  receiver: Receiver;
  /** Artifact downloads made while a `completed` callback was held open, by `process.id`. */
  downloads: Map<string, Download[]>;
  submit(
    path: string,
    fields: Record<string, string>,
    pdf: Uint8Array,
  ): Promise<{ status: number; body: WireJson; ms: number }>;
  /** A client job: its own callback path, a fresh token, the client's Mistral fields. */
  clientFields(over?: Record<string, string>): {
    path: string;
    token: string;
    fields: Record<string, string> & { callback_url: string; callback_token: string };
  };
  callsTo(path: string): ReceivedRequest[];
  /** Waits for the terminal callback at `path`, then a little longer to see that nothing follows. */
  terminalOf(path: string, timeoutMs?: number): Promise<ReceivedRequest[]>;
  getJob(id: string): Promise<WireJson>;
  close(): Promise<void>;
}

export const startClientHarness = async (
  overrides: DeepPartial<SecretaryConfig> = {},
): Promise<ClientHarness> => {
  const fake = await startFakeProviders();
  const auth = { Authorization: `Bearer ${KEY}`, 'X-Secretary-Api-Key': KEY };
  const downloads = new Map<string, Download[]>();
  let base = '';
  const download = async (url: string): Promise<Download> => {
    const res = await fetch(/^https?:/.test(url) ? url : `${base}${url}`, { headers: auth });
    return {
      url,
      status: res.status,
      type: res.headers.get('content-type'),
      bytes: new Uint8Array(await res.arrayBuffer()),
    };
  };
  const downloadAll = async (body: WireJson): Promise<void> => {
    const d = (body.data ?? {}) as Record<string, string>;
    const urls: string[] = [
      d.pages_archive_url,
      d.mistral_ocr_images_url,
      d.mistral_ocr_raw_url,
      d.images_archive_url,
    ].filter((u): u is string => Boolean(u));
    // the client ignores mistral_ocr_raw_url and builds the path from process.id
    if (d.mistral_ocr_raw_url || d.mistral_ocr_raw_metadata)
      urls.push(`/api/pdf/jobs/${body.process.id}/mistral-ocr-raw`);
    downloads.set(body.process.id as string, await Promise.all(urls.map(download)));
  };
  const receiver = await startReceiver((req) =>
    req.body.phase === 'completed' ? { kind: 'ok', until: downloadAll(req.body) } : { kind: 'ok' },
  );
  const home = mkdtempSync(join(tmpdir(), 'secretary-e2e-client-'));
  const config = loadConfig({
    home,
    env: {
      SECRETARY_SERVICE_API_KEY: KEY,
      MISTRAL_BASE_URL: fake.mistralBaseUrl,
      OPENAI_BASE_URL: fake.openaiBaseUrl,
    },
    overrides: { security: { allow_private_urls: true }, ...overrides },
  });
  const rt: Runtime = await createRuntime({
    config,
    withWorker: true,
    logger: pino({ level: 'silent' }),
  });
  const server = await startServer(rt, { host: '127.0.0.1', port: 0 });
  base = server.url;
  const callsTo = (path: string): ReceivedRequest[] =>
    receiver.requests.filter((r) => r.url === path);
  return {
    fake,
    base,
    auth,
    receiver,
    downloads,
    submit: async (path, fields, pdf) => {
      const form = new FormData();
      form.append('file', new Blob([pdf]), 'dokument.pdf');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        body: form,
        headers: { ...auth, 'x-worker': 'true' },
      });
      const body = (await res.json()) as WireJson;
      return { status: res.status, body, ms: performance.now() - t0 };
    },
    clientFields: (over = {}) => {
      const path = `/api/external/jobs/${randomUUID()}`;
      const token = randomUUID();
      return {
        path,
        token,
        fields: {
          includeOCRImages: 'true',
          includePreviewPages: 'true',
          includeHighResPages: 'true',
          useCache: 'false',
          callback_url: receiver.url(path),
          callback_token: token,
          ...over,
        },
      };
    },
    callsTo,
    terminalOf: async (path, timeoutMs = 60_000) => {
      const end = Date.now() + timeoutMs;
      while (!callsTo(path).some(isTerminal)) {
        if (Date.now() > end)
          throw new Error(
            `no terminal callback at ${path}: ${JSON.stringify(callsTo(path).map((r) => r.body.phase))}`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 400));
      return callsTo(path);
    },
    getJob: async (id) =>
      (await (await fetch(`${base}/api/jobs/${id}`, { headers: auth })).json()) as WireJson,
    close: async () => {
      await server.app.close();
      await rt.close();
      await receiver.close();
      await fake.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
};
