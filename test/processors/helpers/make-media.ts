/**
 * Test media made with the real tools: tones and silence (ffmpeg lavfi `sine`, `anullsrc`),
 * a video with a test picture, speech (espeak-ng), a corrupt file. Nothing is shipped.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface TonePart {
  /** Hz; 0 = silence. */
  freq: number;
  sec: number;
}

const ffmpeg = (args: string[]): void => {
  execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'pipe' });
};

/** Tones and silences one after another, mono 16-bit WAV (or any container by extension). */
export const toneSequence = (out: string, parts: TonePart[], sampleRate = 16_000): string => {
  const inputs: string[] = [];
  for (const p of parts) {
    inputs.push(
      '-f',
      'lavfi',
      '-i',
      p.freq > 0
        ? `sine=frequency=${p.freq}:sample_rate=${sampleRate}:duration=${p.sec}`
        : `anullsrc=r=${sampleRate}:cl=mono:d=${p.sec}`,
    );
  }
  const pads = parts.map((_, i) => `[${i}:a]`).join('');
  ffmpeg([...inputs, '-filter_complex', `${pads}concat=n=${parts.length}:v=0:a=1[a]`, '-map', '[a]', '-ac', '1', out]);
  return out;
};

/** A video (test picture) with a tone as its sound track. */
export const toneVideo = (out: string, freq: number, sec: number): string => {
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=160x120:rate=10:duration=${sec}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${freq}:sample_rate=16000:duration=${sec}`,
    '-c:v',
    'mpeg4',
    '-c:a',
    'aac',
    '-shortest',
    out,
  ]);
  return out;
};

/** Speech by espeak-ng (`de`, `en`, …) as WAV. */
export const speech = (out: string, text: string, voice: string): string => {
  execFileSync('espeak-ng', ['-v', voice, '-s', '150', '-w', out, text], { stdio: 'pipe' });
  return out;
};

/** Bytes that no decoder accepts, under an audio name. */
export const corruptFile = (out: string): string => {
  writeFileSync(out, Buffer.concat([Buffer.from('ID3'), Buffer.alloc(4096, 0x5a)]));
  return out;
};
