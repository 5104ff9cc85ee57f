/**
 * `/api/audio/process`, `/api/video/process`, `/api/video/youtube` through `app.inject()`, with a
 * running worker, the real model gateway against the fake providers, the real webhook
 * dispatcher and a real loopback receiver.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { audioJobType, videoJobType, youtubeJobType } from '../../src/handlers/media/media-handler.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { corruptFile, toneSequence, toneVideo } from '../processors/helpers/make-media.js';
import { ofJob, recordingLogger, testDispatcherOptions } from '../webhooks/harness.js';
import { startReceiver, type Receiver } from '../webhooks/receiver.js';
import { createTestApi, until, type TestApi } from './api-fixtures.js';

let api: TestApi;
let fake: FakeProviders;
let receiver: Receiver;
let dispatcher: WebhookDispatcher;
let files: Server;
let filesBase: string;
const tmp = tempDir('secretary-media-api-');
const wav = () => readFileSync(join(tmp.dir, 'tone.wav'));

/** A multipart body as the client's fetch builds it, for `app.inject`. */
const multipart = async (fields: Record<string, string>, file?: { bytes: Uint8Array; name: string }) => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file.bytes]), file.name);
  const req = new Request('http://local/', { method: 'POST', body: form });
  return { payload: Buffer.from(await req.arrayBuffer()), headers: { 'content-type': req.headers.get('content-type')! } };
};

const post = async (url: string, fields: Record<string, string>, file?: { bytes: Uint8Array; name: string }) => {
  const res = await api.app.inject({ method: 'POST', url, ...(await multipart(fields, file)) });
  return { status: res.statusCode, body: res.json<Record<string, any>>() };
};

const uploads = () => readdirSync(join(api.config.paths.cache_dir, 'uploads'));

beforeAll(async () => {
  fake = await startFakeProviders();
  receiver = await startReceiver();
  api = await createTestApi({
    worker: true,
    config: {
      security: { allow_private_urls: true },
      llm: { providers: { openai: { base_url: fake.openaiBaseUrl } } },
      processors: { media: { yt_dlp_path: join(tmp.dir, 'no-yt-dlp') } },
    },
  });
  const deps = { config: api.config, models: ModelGateway.fromConfig(api.config) };
  api.registry.register(audioJobType(deps)).register(videoJobType(deps)).register(youtubeJobType(deps));
  dispatcher = new WebhookDispatcher(api.store, api.registry, testDispatcherOptions(), recordingLogger([]));
  dispatcher.start();
  toneSequence(join(tmp.dir, 'tone.wav'), [{ freq: 440, sec: 2 }]);
  toneVideo(join(tmp.dir, 'clip.mp4'), 660, 2);
  files = createServer((req, res) => {
    if (req.url === '/clip.mp4') {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      res.end(readFileSync(join(tmp.dir, 'clip.mp4')));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesBase = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await dispatcher.stop(1000);
  await api.close();
  await receiver.close();
  await fake.close();
  files.close();
  tmp.cleanup();
});

describe('POST /api/audio/process', () => {
  it('without callback_url waits and answers 200 with data.transcription; the job can still be polled', async () => {
    const { status, body } = await post('/api/audio/process', { source_language: 'de', useCache: 'false' }, { bytes: wav(), name: 'Besprechung.wav' });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'success', error: null, data: { transcription: { text: 'Ton 440 Hz.', language: 'de' } } });
    expect(body.data.transcription.segments[0]).toMatchObject({ start: 0, text: 'Ton 440 Hz.' });
    expect(body.process.llm_info.requests[0]).toMatchObject({ purpose: 'transcription', model: 'whisper-1' });
    const job = await api.app.inject({ method: 'GET', url: `/api/jobs/${body.process.id}` });
    expect(job.json().data).toMatchObject({ status: 'completed', job_type: 'audio', parameters: { original_filename: 'Besprechung.wav', target_language: 'de' } });
  });

  it('with callback_url answers 202, then the receiver gets progress and exactly one completed callback with the transcript', async () => {
    const { status, body } = await post(
      '/api/audio/process',
      { callback_url: receiver.url('/api/external/jobs/a1'), callback_token: 'tok-1', useCache: 'false' },
      { bytes: wav(), name: 'call.mp3' },
    );
    expect(status).toBe(202);
    expect(body).toMatchObject({ status: 'accepted', webhook: { delivered_to: receiver.url('/api/external/jobs/a1') } });
    const id = body.job.id as string;
    await until(() => ofJob(receiver.requests, id).some((r) => r.body.phase === 'completed'), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const mine = ofJob(receiver.requests, id);
    const terminal = mine.filter((r) => r.body.phase === 'completed' || r.body.phase === 'error');
    expect(terminal).toHaveLength(1);
    expect(terminal[0]!.body.data).toEqual({ transcription: { text: 'Ton 440 Hz.', segments: expect.any(Array), language: 'de' } });
    expect(terminal[0]!.headers.authorization).toBe('Bearer tok-1');
    for (const p of mine.slice(0, -1)) {
      expect(p.body.data?.transcription).toBeUndefined();
      expect(p.body.error).toBeUndefined();
    }
  });

  it('a corrupt file gets exactly one error callback (UNSUPPORTED_FILE) and no completed', async () => {
    const bytes = readFileSync(corruptFile(join(tmp.dir, 'broken.mp3')));
    const { status, body } = await post('/api/audio/process', { callback_url: receiver.url('/api/external/jobs/bad') }, { bytes, name: 'broken.mp3' });
    expect(status).toBe(202);
    const id = body.job.id as string;
    await until(() => ofJob(receiver.requests, id).some((r) => r.body.phase === 'error'), 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const mine = ofJob(receiver.requests, id);
    expect(mine.filter((r) => r.body.phase === 'error')).toHaveLength(1);
    expect(mine.filter((r) => r.body.phase === 'completed')).toHaveLength(0);
    expect(mine.at(-1)!.body.error).toMatchObject({ code: 'UNSUPPORTED_FILE' });
  });

  it('refuses bad requests with stable codes and keeps no upload', async () => {
    const before = uploads().length;
    const txt = await post('/api/audio/process', {}, { bytes: Buffer.from('hello'), name: 'notes.txt' });
    expect(txt.status).toBe(415);
    expect(txt.body.error).toMatchObject({ code: 'UNSUPPORTED_FILE' });
    expect(txt.body.error.message).toMatch(/flac, m4a, mp3/);
    expect((await post('/api/audio/process', { source_language: 'de' })).body.error.code).toBe('INVALID_PARAMETERS');
    const lang = await post('/api/audio/process', { source_language: '../../x' }, { bytes: wav(), name: 'a.wav' });
    expect(lang.status).toBe(400);
    const tpl = await post('/api/audio/process', { template: '../etc/passwd' }, { bytes: wav(), name: 'a.wav' });
    expect(tpl.status).toBe(400);
    expect(tpl.body.error.details[0].path).toBe('/parameters/template');
    const unknown = await post('/api/audio/process', { template: 'NoSuchTemplate' }, { bytes: wav(), name: 'a.wav' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('TEMPLATE_NOT_FOUND');
    const json = await api.app.inject({ method: 'POST', url: '/api/audio/process', payload: { file: 'x' } });
    expect(json.statusCode).toBe(400);
    expect(json.json().error.message).toMatch(/multipart/);
    expect(uploads().length).toBe(before);
  });
});

describe('POST /api/video/process and /api/video/youtube', () => {
  it('transcribes a video from a URL and answers with the transcript, video_transcript and result', async () => {
    const { status, body } = await post('/api/video/process', { url: `${filesBase}/clip.mp4`, useCache: 'false' });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.data).toMatchObject({
      transcription: { text: 'Ton 660 Hz.' },
      video_transcript: 'Ton 660 Hz.',
      result: { text: 'Ton 660 Hz.', markdown: 'Ton 660 Hz.' },
    });
    const { status: s2, body: b2 } = await post('/api/video/process', { useCache: 'false' }, { bytes: readFileSync(join(tmp.dir, 'clip.mp4')), name: 'clip.mov' });
    expect(s2).toBe(200);
    expect(b2.data.video_transcript).toBe('Ton 660 Hz.');
  });

  it('validates the YouTube URL, stores only the canonical one, and says when yt-dlp is missing', async () => {
    const bad = await post('/api/video/youtube', { url: 'https://vimeo.com/12345' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/youtu\.be/);
    const res = await api.app.inject({
      method: 'POST',
      url: '/api/video/youtube',
      payload: { url: 'https://youtu.be/dQw4w9WgXcQ?si=x&t=3' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'MEDIA_TOOL_MISSING' });
    expect(res.json().error.message).toMatch(/yt-dlp/);
    const job = await api.store.getJob(res.json().error.details.job_id as string);
    expect(job?.parameters.url).toBe('https://www.youtube.com/watch?v=dQw4w9WgXcQ');
  });
});
