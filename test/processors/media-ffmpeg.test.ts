/**
 * The media processors with the real ffmpeg/ffprobe: tool checks, probing, extraction with
 * silence detection, segment cuts, child processes killed on abort, and `transcribeMedia`
 * end to end with a transcriber that reads the segment files it is given.
 */
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import {
  cutSegment,
  ensureTool,
  normalizeAudio,
  probeMedia,
  removeStaleWorkDirs,
  runTool,
  transcribeMedia,
  type SegmentJob,
} from '../../src/processors/media/index.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { corruptFile, toneSequence, toneVideo } from './helpers/make-media.js';

const tmp = tempDir('secretary-media-');
afterAll(() => tmp.cleanup());
const at = (name: string) => join(tmp.dir, name);

const codeOf = async (p: Promise<unknown>): Promise<string | null> => {
  try {
    await p;
    return null;
  } catch (err) {
    return err instanceof SecretaryError ? err.code : String(err);
  }
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('tools', () => {
  it('finds ffmpeg, and names the Debian package and the config key when a tool is missing', async () => {
    expect(await ensureTool('ffmpeg', 'ffmpeg')).toMatch(/^ffmpeg version/);
    const err = await ensureTool('ffmpeg', '/nonexistent/ffmpeg').catch((e: unknown) => e as SecretaryError);
    expect(err).toBeInstanceOf(SecretaryError);
    expect((err as SecretaryError).code).toBe('MEDIA_TOOL_MISSING');
    expect((err as SecretaryError).message).toMatch(/Debian package `ffmpeg`.*processors\.media\.ffmpeg_path/);
    const yt = await ensureTool('yt-dlp', 'yt-dlp-not-installed-here').catch((e: unknown) => e as SecretaryError);
    expect((yt as SecretaryError).message).toMatch(/yt_dlp_path/);
  });

  it('kills the child at once when the signal aborts, and rejects with the abort reason', async () => {
    const ac = new AbortController();
    let pid = 0;
    const run = runTool('ffmpeg', ['-nostdin', '-f', 'lavfi', '-i', 'sine=duration=3600', '-f', 'null', '-'], {
      signal: ac.signal,
      onSpawn: (p) => (pid = p),
    });
    while (!pid) await new Promise((r) => setTimeout(r, 10));
    expect(alive(pid)).toBe(true);
    const started = Date.now();
    ac.abort();
    expect(await codeOf(run)).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(alive(pid)).toBe(false);
  });

  it('reports a failing tool with its last output line', async () => {
    const err = (await runTool('ffmpeg', ['-nostdin', '-i', at('missing.wav'), '-f', 'null', '-']).catch((e: unknown) => e)) as SecretaryError;
    expect(err.code).toBe('CONVERSION_FAILED');
    expect(err.message).toMatch(/No such file/);
  });
});

describe('probe, extract, cut', () => {
  it('probes audio and video; a corrupt file is UNSUPPORTED_FILE', async () => {
    const wav = toneSequence(at('probe.wav'), [{ freq: 440, sec: 2 }]);
    const a = await probeMedia(wav, { ffprobe: 'ffprobe' });
    expect(a.durationSec).toBeCloseTo(2, 2);
    expect(a.audio).toHaveLength(1);
    expect(a.video).toHaveLength(0);
    const mp4 = toneVideo(at('probe.mp4'), 660, 2);
    const v = await probeMedia(mp4, { ffprobe: 'ffprobe' });
    expect(v.video).toHaveLength(1);
    expect(v.audio[0]!.codec).toBe('aac');
    expect(await codeOf(probeMedia(corruptFile(at('bad.mp3')), { ffprobe: 'ffprobe', name: 'bad.mp3' }))).toBe('UNSUPPORTED_FILE');
    const silentVideo = at('novoice.mp4');
    await runTool('ffmpeg', ['-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=1:size=64x48', '-c:v', 'mpeg4', silentVideo]);
    const noAudio = (await probeMedia(silentVideo, { ffprobe: 'ffprobe', name: 'novoice.mp4' }).catch((e: unknown) => e)) as SecretaryError;
    expect(noAudio.code).toBe('UNSUPPORTED_FILE');
    expect(noAudio.message).toMatch(/no audio track/);
  });

  it('extracts mono 16 kHz audio from a video and finds silences in the same pass; cuts are sample-exact', async () => {
    const wav = toneSequence(at('sil.wav'), [
      { freq: 440, sec: 5 },
      { freq: 0, sec: 2 },
      { freq: 880, sec: 5 },
    ]);
    const out = at('sil16.wav');
    const silences = await normalizeAudio({ ffmpeg: 'ffmpeg', input: wav, output: out, silence: { noiseDb: -35, minSec: 0.4 }, durationSec: 12 });
    expect(silences).toHaveLength(1);
    expect(silences[0]!.start).toBeCloseTo(5, 1);
    expect(silences[0]!.end).toBeCloseTo(7, 1);
    const info = await probeMedia(out, { ffprobe: 'ffprobe' });
    expect(info.audio[0]).toMatchObject({ sampleRate: 16000, channels: 1, codec: 'pcm_s16le' });
    const cut = at('cut.wav');
    await cutSegment({ ffmpeg: 'ffmpeg', input: out, output: cut, startSec: 6, durationSec: 4.5 });
    expect((await probeMedia(cut, { ffprobe: 'ffprobe' })).durationSec).toBeCloseTo(4.5, 3);

    const fromVideo = at('video16.wav');
    await normalizeAudio({ ffmpeg: 'ffmpeg', input: toneVideo(at('v.mp4'), 660, 3), output: fromVideo, silence: null, durationSec: 3 });
    expect((await probeMedia(fromVideo, { ffprobe: 'ffprobe' })).audio[0]).toMatchObject({ sampleRate: 16000, channels: 1 });
  });
});

describe('transcribeMedia', () => {
  const base = {
    ffmpeg: 'ffmpeg',
    ffprobe: 'ffprobe',
    maxDurationSec: 3600,
    segmentation: { targetSec: 20, overlapSec: 1, searchSec: 5, noiseDb: -35, minSilenceSec: 0.4 },
    concurrency: 3,
    name: 'test.wav',
  };

  it('cuts in the silences, hands each segment file to the transcriber, joins in order, and leaves no temp files', async () => {
    const wav = toneSequence(at('three.wav'), [
      { freq: 440, sec: 18 },
      { freq: 0, sec: 3 },
      { freq: 880, sec: 18 },
      { freq: 0, sec: 3 },
      { freq: 1320, sec: 10 },
    ]);
    const tmpRoot = at('work');
    const seen: Array<{ index: number; dur: number; bytes: number }> = [];
    const progress: string[] = [];
    const t = await transcribeMedia({
      ...base,
      inputPath: wav,
      tmpRoot,
      signal: new AbortController().signal,
      onProgress: (step) => progress.push(step),
      // finish out of order: later segments first
      transcribe: async (s: SegmentJob) => {
        seen.push({ index: s.index, dur: s.durationSec, bytes: statSync(s.filePath).size });
        await new Promise((r) => setTimeout(r, (s.count - s.index) * 30));
        return { text: `Teil ${s.index + 1}.`, segments: [{ start: 1.5, end: 2.5, text: `Teil ${s.index + 1}.` }], language: 'de' };
      },
    });
    expect(t.parts.map((p) => [p.start, p.contentStart, p.end])).toEqual([
      [0, 0, 19.5],
      [18.5, 19.5, 40.5],
      [39.5, 40.5, 52],
    ]);
    expect(seen.sort((a, b) => a.index - b.index).map((s) => s.bytes)).toEqual(
      t.parts.map((p) => Math.round((p.end - p.start) * 32000) + 78).map((b) => expect.closeTo(b, -2) as unknown as number),
    );
    expect(t.text).toBe('Teil 1. Teil 2. Teil 3.');
    expect(t.segments.map((s) => s.start)).toEqual([1.5, 20, 41]);
    expect(progress).toContain('transcribing:3/3');
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('stops the other segments when one fails, and removes its files', async () => {
    const wav = toneSequence(at('fail.wav'), [{ freq: 440, sec: 70 }]);
    const tmpRoot = at('work-fail');
    const aborted: number[] = [];
    // segment 2 (index 1) fails once the three segments in flight have all reached the transcriber
    let inFlight = 0;
    let failNow: () => void = () => undefined;
    const allStarted = new Promise<void>((r) => (failNow = r));
    const err = await transcribeMedia({
      ...base,
      inputPath: wav,
      tmpRoot,
      signal: new AbortController().signal,
      transcribe: (s) =>
        new Promise((_resolve, reject) => {
          if (++inFlight === 3) failNow();
          if (s.index === 1) {
            void allStarted.then(() => reject(new SecretaryError('LLM_REQUEST_FAILED', 'boom')));
            return;
          }
          s.signal.addEventListener('abort', () => {
            aborted.push(s.index);
            reject(new Error('aborted'));
          });
        }),
    }).catch((e: unknown) => e as SecretaryError);
    expect((err as SecretaryError).code).toBe('LLM_REQUEST_FAILED');
    expect(aborted.sort()).toEqual([0, 2]);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('refuses media longer than the limit before extracting anything', async () => {
    const wav = toneSequence(at('long.wav'), [{ freq: 440, sec: 30 }]);
    let called = false;
    const code = await codeOf(
      transcribeMedia({
        ...base,
        maxDurationSec: 10,
        inputPath: wav,
        tmpRoot: at('work-long'),
        signal: new AbortController().signal,
        transcribe: async () => {
          called = true;
          return { text: 'x', segments: [], language: null };
        },
      }),
    );
    expect(code).toBe('MEDIA_TOO_LONG');
    expect(called).toBe(false);
    expect(existsSync(at('work-long')) ? readdirSync(at('work-long')) : []).toEqual([]);
  });
});

describe('removeStaleWorkDirs', () => {
  it('removes only media/youtube work dirs untouched for longer than the limit', async () => {
    const root = at('stale-root');
    for (const d of ['media-old', 'youtube-old', 'media-new', 'other-old']) {
      mkdirSync(join(root, d), { recursive: true });
      writeFileSync(join(root, d, 'audio.wav'), 'x');
    }
    const old = new Date(Date.now() - 48 * 3600 * 1000);
    for (const d of ['media-old', 'youtube-old', 'other-old']) utimesSync(join(root, d), old, old);
    expect(await removeStaleWorkDirs(root, 24 * 3600 * 1000)).toBe(2);
    expect(readdirSync(root).sort()).toEqual(['media-new', 'other-old']);
    expect(await removeStaleWorkDirs(at('no-such-root'), 1)).toBe(0);
  });
});
