/**
 * `npm run bench:media`: real-time factor of the media pipeline (probe, extraction to mono
 * 16 kHz with silence detection, segment cuts, concurrent transcription through the real model
 * gateway and `openai` SDK against the local fake at a fixed latency, ordered join) for a
 * 10-minute recording. RTF = wall time / audio duration (0.01 = 100x faster than real time).
 * No embedded speech-to-text engine is measured: none is shipped (docs/transcription.md).
 *   npm run bench:media [-- --quick] [--latency-ms 2000]
 * JSON lines on stdout, progress on stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load-config.js';
import { startFakeProviders } from '../src/fake-providers/index.js';
import { ModelGateway } from '../src/processors/llm/index.js';
import { transcribeMedia } from '../src/processors/media/index.js';
import { emit, hasTool, note, round, runTool } from './lib/bench-util.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const latAt = args.indexOf('--latency-ms');
const latencyMs = latAt >= 0 ? Number(args[latAt + 1]) : 2000;

if (!hasTool('ffmpeg')) {
  process.stderr.write('bench:media needs ffmpeg: apt-get install ffmpeg\n');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'secretary-bench-media-'));
const fake = await startFakeProviders({ latencyMs });
try {
  const duration = quick ? 180 : 600;
  // "speech" bursts of changing tones, a 1.5 s pause every 25 s (the silences segments are cut in)
  const parts: string[] = [];
  for (let t = 0, k = 0; t < duration; t += 25, k++) {
    const sec = Math.min(23.5, duration - t);
    parts.push(`sine=frequency=${300 + (k % 12) * 60}:sample_rate=44100:duration=${sec}`);
    if (t + 25 <= duration) parts.push('anullsrc=r=44100:cl=mono:d=1.5');
  }
  const inputs = parts.flatMap((p) => ['-f', 'lavfi', '-i', p]);
  const pads = parts.map((_, i) => `[${i}:a]`).join('');
  const mp3 = join(dir, 'recording.mp3');
  note(`making a ${duration} s mp3 (${parts.length} parts)`);
  await runTool('ffmpeg', ['-nostdin', '-y', '-v', 'error', ...inputs, '-filter_complex', `${pads}concat=n=${parts.length}:v=0:a=1[a]`, '-map', '[a]', '-b:a', '64k', mp3]);

  const config = loadConfig({ home: dir, env: { OPENAI_BASE_URL: fake.openaiBaseUrl } });
  const models = new ModelGateway({ llm: config.llm, cacheDir: join(dir, 'cache') });
  const cases = quick
    ? [{ segment: 60, concurrency: 4 }]
    : [
        { segment: 300, concurrency: 4 },
        { segment: 120, concurrency: 4 },
        { segment: 60, concurrency: 1 },
        { segment: 60, concurrency: 4 },
      ];
  for (const c of cases) {
    fake.reset();
    let firstCallMs = 0;
    const t0 = performance.now();
    const t = await transcribeMedia({
      inputPath: mp3,
      name: 'recording.mp3',
      ffmpeg: 'ffmpeg',
      ffprobe: 'ffprobe',
      tmpRoot: join(dir, 'tmp'),
      maxDurationSec: 20_000,
      segmentation: { targetSec: c.segment, overlapSec: 1, searchSec: Math.min(30, c.segment / 4), noiseDb: -35, minSilenceSec: 0.4 },
      concurrency: c.concurrency,
      signal: new AbortController().signal,
      transcribe: async (s) => {
        if (!firstCallMs) firstCallMs = performance.now() - t0;
        const r = await models.transcribe({ filePath: s.filePath, durationSec: s.durationSec, signal: s.signal, purpose: 'transcription', processor: 'bench' });
        return { text: r.text, segments: r.segments, language: r.language };
      },
    });
    const wallMs = performance.now() - t0;
    const provider = config.llm.providers.openai!.max_concurrent;
    const rec = {
      bench: 'media',
      case: 'fake_transcription',
      input: 'mp3 64 kbit/s',
      duration_sec: round(t.durationSec, 1),
      segment_duration_sec: c.segment,
      segments: t.parts.length,
      cuts_in_silence: t.parts.filter((p) => p.inSilence).length,
      concurrency: Math.min(c.concurrency, provider),
      fake_latency_ms: latencyMs,
      prepare_ms: round(firstCallMs, 0),
      wall_ms: round(wallMs, 0),
      rtf: round(wallMs / 1000 / t.durationSec, 4),
      rtf_without_latency: round(Math.max(0, wallMs - Math.ceil(t.parts.length / Math.min(c.concurrency, provider)) * latencyMs) / 1000 / t.durationSec, 4),
      transcript_pieces: t.segments.length,
    };
    note(`${c.segment} s segments x${c.concurrency}: ${rec.segments} segments, ${rec.wall_ms} ms, RTF ${rec.rtf}`);
    emit(rec);
  }
} finally {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
