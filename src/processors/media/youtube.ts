/**
 * YouTube: the URL forms accepted (`youtube.com/watch?v=`, `youtu.be/`, `/shorts/`, `/live/`,
 * `/embed/`), reduced to the 11-character video id and a canonical URL (nothing else the
 * client sent reaches yt-dlp), and the download of the best audio with the configured yt-dlp
 * binary into a given directory.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretaryError, UnrecoverableError } from '../../core/errors.js';
import { runTool } from './media-tools.js';

export interface YoutubeRef {
  videoId: string;
  /** `https://www.youtube.com/watch?v=<id>`. */
  url: string;
}

const ID = /^[A-Za-z0-9_-]{11}$/;
const HOSTS = new Set(['youtube.com', 'www.youtube.com', 'm.youtube.com', 'music.youtube.com', 'youtube-nocookie.com', 'www.youtube-nocookie.com']);

/** The video a YouTube URL names, or null when it is not one. */
export const parseYoutubeUrl = (raw: string): YoutubeRef | null => {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (u.username || u.password || (u.port && u.port !== '443' && u.port !== '80')) return null;
  const host = u.hostname.toLowerCase();
  let id: string | null = null;
  const parts = u.pathname.split('/').filter(Boolean);
  if (host === 'youtu.be' || host === 'www.youtu.be') {
    id = parts.length === 1 ? parts[0]! : null;
  } else if (HOSTS.has(host)) {
    if (parts[0] === 'watch' && parts.length === 1) id = u.searchParams.get('v');
    else if (['shorts', 'live', 'embed', 'v'].includes(parts[0] ?? '') && parts.length === 2) id = parts[1] ?? null;
  }
  if (!id || !ID.test(id)) return null;
  return { videoId: id, url: `https://www.youtube.com/watch?v=${id}` };
};

export interface YoutubeDownload {
  path: string;
  sizeBytes: number;
  title: string | null;
  durationSec: number | null;
  uploader: string | null;
}

export interface YoutubeDownloadOptions {
  ytDlp: string;
  ref: YoutubeRef;
  /** An empty directory; the file is written as `source.<ext>`. */
  dir: string;
  maxBytes: number;
  timeoutMs: number;
  extraArgs: readonly string[];
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** Downloads the video's best audio (or best stream) with yt-dlp; `DOWNLOAD_FAILED` with its last message otherwise. */
export const downloadYoutubeAudio = async (opts: YoutubeDownloadOptions): Promise<YoutubeDownload> => {
  let out: string;
  try {
    ({ stdout: out } = await runTool(
      opts.ytDlp,
      [
        ...opts.extraArgs,
        '--no-playlist',
        '--no-progress',
        '--no-warnings',
        '--no-mtime',
        '-f',
        'bestaudio/best',
        '--max-filesize',
        String(opts.maxBytes),
        '-o',
        join(opts.dir, 'source.%(ext)s'),
        '--dump-json',
        '--no-simulate',
        '--',
        opts.ref.url,
      ],
      { signal: opts.signal, onSpawn: opts.onSpawn, timeoutMs: opts.timeoutMs, label: 'yt-dlp', failureCode: 'DOWNLOAD_FAILED' },
    ));
  } catch (err) {
    // network trouble is the usual cause: a plain (retryable) error, not an unrecoverable one
    if (err instanceof SecretaryError && err.code === 'DOWNLOAD_FAILED') {
      throw new SecretaryError('DOWNLOAD_FAILED', `${err.message} (${opts.ref.url})`, err.details);
    }
    throw err;
  }
  let meta: Record<string, unknown> = {};
  for (const line of out.split('\n').reverse()) {
    if (!line.trim().startsWith('{')) continue;
    try {
      meta = JSON.parse(line) as Record<string, unknown>;
      break;
    } catch {
      // not the info line
    }
  }
  const files = (await readdir(opts.dir)).filter((f) => f.startsWith('source.') && !/\.(part|ytdl|json|temp)$/.test(f));
  if (files.length === 0) {
    throw new UnrecoverableError(
      `yt-dlp finished without writing a file for ${opts.ref.url} (too large for processors.media.max_file_size_mb, or no downloadable format)`,
      'DOWNLOAD_FAILED',
    );
  }
  const path = join(opts.dir, files[0]!);
  const size = (await stat(path)).size;
  if (size > opts.maxBytes) {
    throw new UnrecoverableError(`the download is ${size} bytes; the limit is ${opts.maxBytes}`, 'FILE_TOO_LARGE');
  }
  const duration = Number(meta.duration);
  return {
    path,
    sizeBytes: size,
    title: str(meta.title),
    durationSec: Number.isFinite(duration) && duration > 0 ? duration : null,
    uploader: str(meta.uploader) ?? str(meta.channel),
  };
};
