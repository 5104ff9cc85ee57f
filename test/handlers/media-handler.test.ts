/**
 * The `audio`, `video` and `youtube` job types end to end: a real SQLite store and worker,
 * the real model gateway and `openai` SDK pointed at the local fake providers (whose
 * transcript is derived from the uploaded audio: one `Ton <Hz> Hz.` per voiced stretch),
 * real ffmpeg, espeak-ng speech, and a stand-in script for yt-dlp.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import type { Job } from '../../src/core/job.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { registerBuiltinHandlers } from '../../src/handlers/index.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import type { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { HandlerRegistry } from '../../src/worker/registry.js';
import { WorkerManager } from '../../src/worker/worker-manager.js';
import { fastWorkerOptions, openSqlite, quietLogger, tempDir, waitForJob } from '../helpers/worker-fixtures.js';
import { corruptFile, speech, toneSequence, toneVideo } from '../processors/helpers/make-media.js';

let fake: FakeProviders;
const home = tempDir('secretary-media-h-');
let config: SecretaryConfig;
let store: SqliteJobStore;
let worker: WorkerManager;
let media: string;

const makeConfig = (over: DeepPartial<SecretaryConfig> = {}, env: Record<string, string> = { OPENAI_BASE_URL: fake.openaiBaseUrl }) =>
  loadConfig({
    home: home.dir,
    env,
    overrides: {
      ...over,
      processors: {
        ...over.processors,
        media: { segment_duration_sec: 300, silence_search_sec: 30, ...over.processors?.media },
      },
    },
  });

/** A worker over the shared store with the built-in job types for `cfg`. */
const startWorker = (cfg: SecretaryConfig): WorkerManager => {
  const registry = registerBuiltinHandlers(new HandlerRegistry(), {
    config: cfg,
    models: new ModelGateway({ llm: cfg.llm, cacheDir: cfg.paths.cache_dir, backoffBaseMs: 10 }),
  });
  const w = new WorkerManager(store, registry, fastWorkerOptions({ leaseMs: 30_000, heartbeatMs: 5000, timeoutMs: 120_000 }), quietLogger());
  w.start();
  return w;
};

const run = async (job_type: string, parameters: Record<string, unknown>): Promise<Job> => {
  const { job } = await store.createJob({ job_type, parameters, max_attempts: 1 });
  return waitForJob(store, job.job_id, (j) => ['completed', 'failed', 'cancelled'].includes(j.status), 90_000);
};

const results = (j: Job) => j.results as Record<string, any>;

beforeAll(async () => {
  fake = await startFakeProviders();
  config = makeConfig();
  media = join(config.paths.cache_dir, 'media-in');
  mkdirSync(media, { recursive: true });
  store = await openSqlite(join(home.dir, 'data', 'q.db'));
  worker = startWorker(config);
});

afterAll(async () => {
  await worker.stop(2000);
  await store.close();
  await fake.close();
  home.cleanup();
});

beforeEach(() => {
  fake.reset();
  fake.setLatency(0);
});

describe('audio', () => {
  it('transcribes German and English espeak-ng speech: text, segments, language, cost per request', async () => {
    for (const [voice, lang, text] of [
      ['de', 'de', 'Guten Morgen. Das Protokoll der Sitzung liegt im Büro.'],
      ['en', 'en', 'Good morning. The minutes of the meeting are in the office.'],
    ] as const) {
      const file = speech(join(media, `speech-${voice}.wav`), text, voice);
      const job = await run('audio', { file_path: file, source_language: lang, use_cache: false });
      expect(job.status, JSON.stringify(job.error)).toBe('completed');
      const t = results(job).transcription;
      expect(t.text).toMatch(/^Ton \d+ Hz\./);
      expect(t.language).toBe(lang);
      expect(t.segments.length).toBeGreaterThan(0);
      expect(results(job).markdown_content).toBe(t.text);
      expect(job.llm_info?.requests).toHaveLength(1);
      const req = job.llm_info!.requests[0]!;
      expect(req).toMatchObject({ model: 'whisper-1', purpose: 'transcription', processor: 'AudioProcessor', from_cache: false });
      expect(req.cost).toBeCloseTo((req.audio_seconds! / 60) * 0.006, 8);
      expect(fake.requestsOf('openai.transcriptions').at(-1)!.summary).toMatchObject({ model: 'whisper-1' });
    }
  });

  it('splits 12 minutes with two pauses into 3 segments cut in the pauses and keeps their order', async () => {
    const file = toneSequence(join(media, 'long.wav'), [
      { freq: 440, sec: 288 },
      { freq: 0, sec: 4 },
      { freq: 880, sec: 296 },
      { freq: 0, sec: 4 },
      { freq: 1320, sec: 128 },
    ]);
    const job = await run('audio', { file_path: file, use_cache: false });
    expect(job.status, JSON.stringify(job.error)).toBe('completed');
    expect(fake.requestsOf('openai.transcriptions')).toHaveLength(3);
    const r = results(job);
    expect(r.metadata).toMatchObject({ segment_count: 3, duration_sec: 720 });
    const tones = (r.transcription.segments as Array<{ start: number; end: number; text: string }>).map((s) => s.text);
    const order = [...new Set(tones)];
    expect(order).toEqual(['Ton 440 Hz.', 'Ton 880 Hz.', 'Ton 1320 Hz.']);
    const starts = (r.transcription.segments as Array<{ start: number }>).map((s) => s.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const first880 = r.transcription.segments.find((s: { text: string }) => s.text === 'Ton 880 Hz.');
    const first1320 = r.transcription.segments.find((s: { text: string }) => s.text === 'Ton 1320 Hz.');
    expect(first880.start).toBeCloseTo(292, 0);
    expect(first1320.start).toBeCloseTo(592, 0);
    expect(job.llm_info?.requests_count).toBe(3);
    expect(job.llm_info?.total_cost).toBeCloseTo((722 / 60) * 0.006, 3);
    expect(readdirSync(join(config.paths.cache_dir, 'tmp'))).toEqual([]);
  });

  it('fills a template from the transcript (Meeting, German variant) and records both calls', async () => {
    const file = speech(join(media, 'sitzung.wav'), 'Beschluss: Der Haushalt wird angenommen.', 'de');
    const job = await run('audio', { file_path: file, source_language: 'de', target_language: 'de', template: 'meeting', use_cache: false });
    expect(job.status, JSON.stringify(job.error)).toBe('completed');
    const r = results(job);
    expect(r.template_result).toMatchObject({ template: 'Meeting_de', fields: expect.arrayContaining(['title', 'summary']) });
    expect(r.template_result.structured_data.title).toMatch(/Ton \d+ Hz/);
    expect(r.markdown_content).toBe(r.template_result.text);
    expect(r.markdown_content).toMatch(/^---\ntitle: /);
    expect(r.markdown_content).toMatch(/source: "sitzung\.wav"/);
    expect(r.transcription.text).toMatch(/^Ton \d+ Hz\./);
    expect(job.llm_info?.requests.map((q) => q.purpose)).toEqual(['transcription', 'template_transform']);
  });

  it('caches by content: two different files both named recording.wav get their own transcripts; the same content again is a cache hit', async () => {
    const a = join(config.paths.cache_dir, 'a');
    const b = join(config.paths.cache_dir, 'b');
    const c = join(config.paths.cache_dir, 'c');
    for (const d of [a, b, c]) mkdirSync(d, { recursive: true });
    toneSequence(join(a, 'recording.wav'), [{ freq: 500, sec: 3 }]);
    toneSequence(join(b, 'recording.wav'), [{ freq: 1000, sec: 3 }]);
    copyFileSync(join(a, 'recording.wav'), join(c, 'other-name.wav'));
    const ja = await run('audio', { file_path: join(a, 'recording.wav'), use_cache: true });
    const jb = await run('audio', { file_path: join(b, 'recording.wav'), use_cache: true });
    expect(results(ja).transcription.text).toBe('Ton 500 Hz.');
    expect(results(jb).transcription.text).toBe('Ton 1000 Hz.');
    expect(results(jb).is_from_cache).toBe(false);
    const calls = fake.requestsOf('openai.transcriptions').length;
    const jc = await run('audio', { file_path: join(c, 'other-name.wav'), use_cache: true });
    expect(results(jc)).toMatchObject({ is_from_cache: true, transcription: { text: 'Ton 500 Hz.' } });
    expect(fake.requestsOf('openai.transcriptions')).toHaveLength(calls);
    // another source language is another transcript
    await run('audio', { file_path: join(c, 'other-name.wav'), use_cache: true, source_language: 'en' });
    expect(fake.requestsOf('openai.transcriptions')).toHaveLength(calls + 1);
  });

  it('fails instead of completing: silence (empty transcript), a corrupt file, an unknown template (before any call), too long, too large', async () => {
    const silent = await run('audio', { file_path: toneSequence(join(media, 'silent.wav'), [{ freq: 0, sec: 3 }]), use_cache: false });
    expect(silent.error?.code).toBe('TRANSCRIPTION_FAILED');
    const corrupt = await run('audio', { file_path: corruptFile(join(media, 'corrupt.mp3')) });
    expect(corrupt.error).toMatchObject({ code: 'UNSUPPORTED_FILE' });
    expect(corrupt.error?.message).toMatch(/corrupt\.mp3/);
    const before = fake.requests.length;
    const tpl = await run('audio', { file_path: join(media, 'silent.wav'), template: 'NoSuchTemplate' });
    expect(tpl.error?.code).toBe('TEMPLATE_NOT_FOUND');
    expect(fake.requests.length).toBe(before);

    const strict = startWorker(makeConfig({ processors: { media: { max_duration_sec: 2, max_file_size_mb: 0.05 } } }));
    await worker.stop(2000);
    try {
      const small = toneSequence(join(media, 'three-sec.wav'), [{ freq: 440, sec: 1.5 }]);
      expect((await run('audio', { file_path: small })).status).toBe('completed');
      const long = await run('audio', { file_path: toneSequence(join(media, 'five-sec.mp3'), [{ freq: 440, sec: 5 }]) });
      expect(long.error?.code).toBe('MEDIA_TOO_LONG');
      const large = await run('audio', { file_path: toneSequence(join(media, 'big.wav'), [{ freq: 440, sec: 1.9 }, { freq: 0, sec: 0.1 }], 48_000) });
      expect(large.error?.code).toBe('FILE_TOO_LARGE');
    } finally {
      await strict.stop(2000);
      worker = startWorker(config);
    }
  });

  it('names what to configure when no transcription provider is set, and when ffmpeg is missing', async () => {
    await worker.stop(2000);
    const unconfigured = startWorker(makeConfig({}, {}));
    try {
      const j = await run('audio', { file_path: join(media, 'speech-de.wav') });
      expect(j.error?.code).toBe('LLM_NOT_CONFIGURED');
      expect(j.error?.message).toMatch(/OPENAI_API_KEY|OPENAI_BASE_URL/);
    } finally {
      await unconfigured.stop(2000);
    }
    const noFfmpeg = startWorker(makeConfig({ processors: { media: { ffmpeg_path: '/opt/none/ffmpeg' } } }));
    try {
      const j = await run('audio', { file_path: join(media, 'speech-de.wav') });
      expect(j.error?.code).toBe('MEDIA_TOOL_MISSING');
      expect(j.error?.message).toMatch(/apt-get install ffmpeg/);
    } finally {
      await noFfmpeg.stop(2000);
      worker = startWorker(config);
    }
  });

  it('cancel mid-transcription aborts the HTTP calls, leaves no ffmpeg child and no temp files', async () => {
    const file = toneSequence(join(media, 'cancel.wav'), [
      { freq: 440, sec: 290 },
      { freq: 0, sec: 2 },
      { freq: 660, sec: 300 },
      { freq: 0, sec: 2 },
      { freq: 990, sec: 300 },
    ]);
    fake.setLatency(20_000);
    const { job } = await store.createJob({ job_type: 'audio', parameters: { file_path: file, use_cache: false }, max_attempts: 1 });
    const end = Date.now() + 30_000;
    while (fake.requestsOf('openai.transcriptions').length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(fake.requestsOf('openai.transcriptions')).toHaveLength(3);
    await store.cancelJob(job.job_id);
    const done = await waitForJob(store, job.job_id, (j) => j.status === 'cancelled');
    expect(done.status).toBe('cancelled');
    const until = Date.now() + 5000;
    while (fake.requestsOf('openai.transcriptions').some((r) => !r.aborted && r.status === null) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const reqs = fake.requestsOf('openai.transcriptions');
    expect(reqs.map((r) => [r.aborted, r.status]), JSON.stringify(reqs)).toEqual(reqs.map(() => [true, null]));
    const children = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return readFileSync(`/proc/${d}/stat`, 'utf8');
        } catch {
          return '';
        }
      })
      .filter((s) => /\((ffmpeg|ffprobe)\)/.test(s) && s.split(') ')[1]?.split(' ')[1] === String(process.pid));
    expect(children).toEqual([]);
    const tmp = join(config.paths.cache_dir, 'tmp');
    const waitEmpty = Date.now() + 5000;
    while (existsSync(tmp) && readdirSync(tmp).length && Date.now() < waitEmpty) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('video and youtube', () => {
  it('transcribes the sound track of a video and answers with video_transcript and result', async () => {
    const file = toneVideo(join(media, 'clip.mp4'), 770, 4);
    const job = await run('video', { file_path: file, use_cache: false });
    expect(job.status, JSON.stringify(job.error)).toBe('completed');
    expect(results(job)).toMatchObject({
      video_transcript: 'Ton 770 Hz.',
      transcription: { text: 'Ton 770 Hz.' },
      metadata: { has_video: true },
    });
    expect(job.llm_info?.requests[0]?.processor).toBe('VideoProcessor');
  });

  it('downloads YouTube audio with the configured yt-dlp (a stand-in script here) and fails clearly without it', async () => {
    const dir = join(home.dir, 'bin');
    mkdirSync(dir, { recursive: true });
    const source = toneSequence(join(dir, 'yt-source.wav'), [{ freq: 550, sec: 3 }]);
    const log = join(dir, 'yt-dlp.log');
    const script = join(dir, 'yt-dlp');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        '# stand-in for yt-dlp: copies a generated WAV to where -o says and prints the info JSON',
        'if [ "$1" = "--version" ]; then echo "2099.01.01"; exit 0; fi',
        'echo "$@" >> ' + JSON.stringify(log),
        'out=""; url=""',
        'while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; --) url="$2"; shift;; esac; shift; done',
        'cp ' + JSON.stringify(source) + ' "$(echo "$out" | sed "s/%(ext)s/wav/")"',
        'echo "{\\"id\\":\\"dQw4w9WgXcQ\\",\\"title\\":\\"Stand-in video\\",\\"duration\\":3,\\"uploader\\":\\"Tester\\"}"',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    await worker.stop(2000);
    const yt = startWorker(makeConfig({ processors: { media: { yt_dlp_path: script } } }));
    try {
      const job = await run('youtube', { url: 'https://youtu.be/dQw4w9WgXcQ?si=tracking', use_cache: false });
      expect(job.status, JSON.stringify(job.error)).toBe('completed');
      expect(results(job)).toMatchObject({
        transcription: { text: 'Ton 550 Hz.' },
        video_transcript: 'Ton 550 Hz.',
        metadata: { source: 'youtube', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', youtube: { video_id: 'dQw4w9WgXcQ', title: 'Stand-in video' } },
      });
      // only the canonical URL reaches yt-dlp, after `--`
      expect(readFileSync(log, 'utf8')).toMatch(/-- https:\/\/www\.youtube\.com\/watch\?v=dQw4w9WgXcQ\n$/);
      expect(readdirSync(join(config.paths.cache_dir, 'tmp'))).toEqual([]);
    } finally {
      await yt.stop(2000);
    }
    const none = startWorker(makeConfig({ processors: { media: { yt_dlp_path: join(dir, 'missing-yt-dlp') } } }));
    try {
      const job = await run('youtube', { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' });
      expect(job.error?.code).toBe('MEDIA_TOOL_MISSING');
      expect(job.error?.message).toMatch(/yt-dlp/);
    } finally {
      await none.stop(2000);
      worker = startWorker(config);
    }
  });
});
