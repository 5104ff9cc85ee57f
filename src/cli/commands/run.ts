/**
 * `secretary run <file|url> [--method m] [--out dir] [--type pdf|imageocr|audio|video|youtube]`:
 * processes one document or recording through the same queue and worker as the server (embedded store by default),
 * shows live progress on stderr, and writes the markdown and artifacts to `--out`.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, extname, join, parse, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { isTerminal, type Job } from '../../core/job.js';
import { uploadsDir } from '../../files/cache-layout.js';
import type { JobStore } from '../../store/job-store.js';
import { AUDIO_EXTENSIONS, VIDEO_EXTENSIONS } from '../../handlers/media/media-parameters.js';
import { parseYoutubeUrl } from '../../processors/media/index.js';
import { commonOptions, configFrom } from '../cli-config.js';
import { createLogger, createRuntime } from '../runtime.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp', '.tif', '.tiff']);
const AUDIO_EXT = new Set(AUDIO_EXTENSIONS.map((e) => `.${e}`));
const VIDEO_EXT = new Set(VIDEO_EXTENSIONS.map((e) => `.${e}`));

/** The job type for a file or URL when `--type` is not given. */
const typeFor = (target: string, isUrl: boolean, ext: string): string => {
  if (isUrl && parseYoutubeUrl(target)) return 'youtube';
  if (IMAGE_EXT.has(ext)) return 'imageocr';
  if (AUDIO_EXT.has(ext) && ext !== '.mp4' && ext !== '.webm') return 'audio';
  if (VIDEO_EXT.has(ext)) return 'video';
  return 'pdf';
};
const MEDIA_TYPES = new Set(['audio', 'video', 'youtube']);

const bar = (percent: number, width = 28): string => {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(percent)).padStart(3)}%`;
};

export const makeReporter = () => {
  const tty = process.stderr.isTTY;
  let last = '';
  return {
    update(job: Pick<Job, 'status' | 'progress'>) {
      const step = job.progress?.step ?? job.status;
      const line = `${bar(job.progress?.percent ?? 0)} ${step}${job.progress?.message ? ` — ${job.progress.message}` : ''}`;
      if (line === last) return;
      last = line;
      if (tty)
        process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
      else process.stderr.write(`${line}\n`);
    },
    done() {
      if (tty && last) process.stderr.write('\n');
    },
  };
};

const copyArtifact = async (
  home: string,
  rel: unknown,
  outDir: string,
  name?: string,
): Promise<string | null> => {
  if (typeof rel !== 'string' || !rel) return null;
  const src = resolve(home, rel);
  if (!existsSync(src)) return null;
  const dest = join(outDir, name ?? basename(src));
  await copyFile(src, dest);
  return dest;
};

/** Follows a job through store events (and a slow re-read) until it ends, reporting progress. */
export const followJob = (
  store: JobStore,
  jobId: string,
  reporter: { update(j: Job): void },
): Promise<Job> =>
  new Promise<Job>((resolveDone) => {
    const check = async () => {
      const j = await store.getJob(jobId);
      if (!j) return;
      reporter.update(j);
      if (isTerminal(j.status)) {
        unsubscribe();
        clearInterval(timer);
        resolveDone(j);
      }
    };
    const unsubscribe = store.subscribe((e) => {
      if (e.type === 'job' && e.change.job_id === jobId) void check();
    });
    const timer = setInterval(() => void check(), 500);
    void check();
  });

export const runCommand = async (args: string[]): Promise<number> => {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...commonOptions,
      method: { type: 'string' },
      out: { type: 'string' },
      type: { type: 'string' },
    },
    allowPositionals: true,
  });
  const target = positionals[0];
  if (!target || values.help) {
    process.stderr.write(
      'usage: secretary run <file|url> [--method native|ocr|both|preview|…] [--out dir] [--type pdf|imageocr|audio|video|youtube]\n',
    );
    return 2;
  }
  const isUrl = /^https?:\/\//i.test(target);
  if (!isUrl && !existsSync(target)) {
    process.stderr.write(
      `secretary: no such file: ${target}\nGive a path to a PDF, image, audio or video file, or an http(s) URL.\n`,
    );
    return 1;
  }
  const ext = extname(isUrl ? new URL(target).pathname : target).toLowerCase();
  const jobType = values.type ?? typeFor(target, isUrl, ext);
  const media = MEDIA_TYPES.has(jobType);
  const config = configFrom(values, { generic_worker: { active: true } });
  const rt = await createRuntime({
    config,
    withWorker: true,
    logger: createLogger(config, { level: 'warn', stderr: true }),
  });
  const reporter = makeReporter();
  try {
    const parameters: Record<string, unknown> = media
      ? {}
      : { extraction_method: values.method ?? (jobType === 'pdf' ? 'native' : 'ocr') };
    if (isUrl) parameters.url = target;
    else {
      const dir = uploadsDir(config.paths.cache_dir);
      await mkdir(dir, { recursive: true });
      const copy = join(dir, `upload_${randomUUID()}${ext}`);
      await copyFile(target, copy);
      parameters.upload_path = copy;
      parameters.original_filename = basename(target);
    }
    const problems = rt.registry.validate(jobType, parameters);
    if (problems.length) {
      process.stderr.write(
        `secretary: invalid options: ${problems.map((p) => `${p.path} ${p.problem}`).join('; ')}\n`,
      );
      return 2;
    }
    const { job } = await rt.store.createJob({ job_type: jobType, parameters, max_attempts: 1 });
    process.stderr.write(
      `job ${job.job_id} (${jobType}${media ? '' : `, ${String(parameters.extraction_method)}`})\n`,
    );
    const final = await followJob(rt.store, job.job_id, reporter);
    reporter.done();
    if (final.status !== 'completed') {
      process.stderr.write(
        `failed: ${final.error?.code ?? final.status}: ${final.error?.message ?? ''}\n`,
      );
      if (final.error?.code === 'LLM_NOT_CONFIGURED' && media)
        process.stderr.write(
          'To try it without keys: npm run fake-providers (it prints the environment to set). No offline speech-to-text engine ships with Secretary (docs/transcription.md).\n',
        );
      else if (final.error?.code === 'LLM_NOT_CONFIGURED')
        process.stderr.write(
          `${final.error.message}\nOr pick --method native|ocr|both|preview. To try the model methods without keys: npm run fake-providers (it prints the environment to set).\n`,
        );
      return 1;
    }
    const r = (final.results ?? {}) as Record<string, unknown>;
    const outDir = resolve(values.out ?? '.');
    await mkdir(outDir, { recursive: true });
    const stem = parse(isUrl ? basename(new URL(target).pathname) || 'document' : target).name;
    const mdPath = join(outDir, `${stem}.md`);
    await writeFile(
      mdPath,
      `${String(r.extracted_text ?? r.markdown_content ?? '').trimStart()}\n`,
    );
    const written = [mdPath];
    for (const [key, name] of [
      ['archive_path', undefined],
      ['pages_archive_path', `${stem}_pages.zip`],
    ] as const) {
      const dest = await copyArtifact(config.paths.home, r[key], outDir, name);
      if (dest) written.push(dest);
    }
    const pages = (r.page_count as number | undefined) ?? null;
    process.stderr.write(
      `done${pages ? `: ${pages} pages` : ''}${r.is_from_cache ? ' (from cache)' : ''}\n`,
    );
    for (const w of written) process.stdout.write(`${w}\n`);
    return 0;
  } finally {
    await rt.close();
  }
};
