/**
 * The session pipeline (original §8), as pure processing over injected steps:
 *
 * 1. `fetch_page` — the session page as Markdown (fatal);
 * 2. `video` — a given `video_transcript` is used as is; otherwise the `video_url` is
 *    transcribed in the source language (whitespace collapsed). Non-fatal: a failure leaves the
 *    transcript empty and adds a warning;
 * 3. `attachments` — the attachments PDF → page texts and preview images, copied to
 *    `<event>/assets/<session>/`. Non-fatal like the original (warning, no slides);
 * 4. `template` — `<template>_<lang>` filled from the web text and the slide texts, with the
 *    original's context (fatal);
 * 5. slides, `{slides}`, `{videoplayer}`; `write_markdown` (fatal);
 * 6. `archive` when asked (non-fatal).
 *
 * Knows nothing of jobs: the handler passes the steps (pdf and video job types, the web page
 * fetcher, the transformer), the directories and callbacks for progress and logs.
 */
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { throwIfAborted } from '../abort.js';
import { archiveReadme, writeSessionArchive } from './session-archive.js';
import { finishSessionMarkdown, templateContext, templateInputText } from './session-markdown.js';
import { sessionLayout, type SessionLayout } from './session-paths.js';
import {
  stepFailure,
  stepWarning,
  type SessionStep,
  type StepRecord,
  type StepWarning,
} from './session-steps.js';

export interface SessionInput {
  event: string;
  session: string;
  url: string;
  /** Null: derived from the session title. */
  filename: string | null;
  track: string;
  day: string | null;
  starttime: string | null;
  endtime: string | null;
  speakers: string[];
  speakers_url: string[];
  speakers_image_url: string[];
  video_url: string | null;
  video_transcript: string | null;
  attachments_url: string | null;
  source_language: string;
  target_language: string;
  target: string | null;
  /** Template base name; the language variant `<template>_<lang>` is tried first. */
  template: string;
  create_archive: boolean;
}

export interface FetchedPage {
  url: string;
  title: string;
  markdown: string;
}

export interface ExtractedAttachments {
  /** Text of each page, in page order. */
  pageTexts: string[];
  /** Absolute paths of the preview images, in page order. */
  previews: string[];
}

export interface FilledTemplate {
  markdown: string;
  structured_data: Record<string, unknown>;
  /** The template file used. */
  template: string | null;
}

export interface SessionStepFns {
  fetchPage(url: string, signal: AbortSignal): Promise<FetchedPage>;
  /** Absent: video transcription is not available (a `video_url` then gives a warning). */
  transcribeVideo?: (
    videoUrl: string,
    sourceLanguage: string,
    signal: AbortSignal,
  ) => Promise<string>;
  extractAttachments(url: string, signal: AbortSignal): Promise<ExtractedAttachments>;
  fillTemplate(
    req: {
      text: string;
      context: Record<string, unknown>;
      template: string;
      targetLanguage: string;
      sourceLanguage: string;
    },
    signal: AbortSignal,
  ): Promise<FilledTemplate>;
}

export interface SessionRunOptions {
  /** Absolute sessions base dir. */
  baseDir: string;
  cacheKey: string;
  /** Where to write the archive (when `create_archive`); null: no archive. */
  archive: { path: string; filename: string } | null;
  signal: AbortSignal;
  onProgress?: (step: string, percent: number, message: string) => void;
  onLog?: (level: 'info' | 'warning', message: string) => void;
}

export interface SessionOutput {
  layout: SessionLayout;
  web_text: string;
  page_title: string;
  video_transcript: string;
  /** Gallery paths relative to the base dir, in page order. */
  attachments: string[];
  page_texts: string[];
  markdown_content: string;
  structured_data: Record<string, unknown>;
  template: string | null;
  context: Record<string, unknown>;
  /** Absolute path of the archive written, or null. */
  archive_path: string | null;
  archive_filename: string | null;
  archive_entries: string[];
  warnings: StepWarning[];
  steps: StepRecord[];
}

const collapse = (s: string): string => s.split(/\s+/).filter(Boolean).join(' ');

export const processSession = async (
  input: SessionInput,
  steps: SessionStepFns,
  opts: SessionRunOptions,
): Promise<SessionOutput> => {
  const { signal } = opts;
  const progress = (step: string, percent: number, message: string) =>
    opts.onProgress?.(step, percent, message);
  const warnings: StepWarning[] = [];
  const records: StepRecord[] = [];
  const run = async <T>(
    step: SessionStep,
    fatal: boolean,
    fn: () => Promise<T>,
    fallback: T,
  ): Promise<T> => {
    throwIfAborted(signal);
    const t0 = performance.now();
    try {
      const v = await fn();
      records.push({ step, status: 'done', duration_ms: Math.round(performance.now() - t0) });
      return v;
    } catch (err) {
      if (fatal || signal.aborted) throw stepFailure(step, err, signal);
      const w = stepWarning(step, err);
      warnings.push(w);
      records.push({
        step,
        status: 'failed',
        duration_ms: Math.round(performance.now() - t0),
        note: w.message,
      });
      opts.onLog?.('warning', `step ${step} failed, continuing without it: ${w.message}`);
      return fallback;
    }
  };
  const skip = (step: SessionStep, note: string) =>
    records.push({ step, status: 'skipped', duration_ms: 0, note });

  const layout = sessionLayout(opts.baseDir, {
    event: input.event,
    track: input.track,
    targetLanguage: input.target_language,
    filename: input.filename,
    session: input.session,
  });

  progress('fetch_page', 10, 'Session-Seite wird gelesen');
  const page = await run('fetch_page', true, () => steps.fetchPage(input.url, signal), null);
  const webText =
    page!.title && !page!.markdown.startsWith(`# ${page!.title}`)
      ? `# ${page!.title}\n\n${page!.markdown}`
      : page!.markdown;
  opts.onLog?.('info', `session page: ${webText.length} characters of Markdown`);

  let transcript = '';
  if (input.video_transcript) {
    transcript = input.video_transcript;
    skip('video', 'video_transcript given');
  } else if (input.video_url) {
    progress('video', 20, 'Video wird transkribiert');
    const videoUrl = input.video_url;
    transcript = await run(
      'video',
      false,
      async () => {
        if (!steps.transcribeVideo)
          throw new Error(
            'video transcription is not available in this installation; send video_transcript instead',
          );
        return collapse(await steps.transcribeVideo(videoUrl, input.source_language, signal));
      },
      '',
    );
  } else skip('video', 'no video_url');

  let pageTexts: string[] = [];
  let gallery: string[] = [];
  if (input.attachments_url) {
    progress('attachments', 45, 'Anhänge werden gelesen');
    const attachmentsUrl = input.attachments_url;
    const got = await run(
      'attachments',
      false,
      async () => {
        const a = await steps.extractAttachments(attachmentsUrl, signal);
        await mkdir(layout.abs.assetDir, { recursive: true });
        const paths: string[] = [];
        for (const src of a.previews) {
          const name = basename(src);
          await copyFile(src, join(layout.abs.assetDir, name));
          paths.push(`${layout.rel.assetDir}/${name}`);
        }
        return { pageTexts: a.pageTexts, gallery: paths };
      },
      { pageTexts: [], gallery: [] },
    );
    pageTexts = got.pageTexts;
    gallery = got.gallery;
    opts.onLog?.(
      'info',
      `attachments: ${pageTexts.length} page(s), ${gallery.length} preview image(s)`,
    );
  } else skip('attachments', 'no attachments_url');

  progress('template', 70, `Template ${input.template} wird ausgefüllt`);
  const context = templateContext({
    ...input,
    video_transcript: transcript,
    attachment_paths: gallery,
    page_count: pageTexts.length,
    cache_key: opts.cacheKey,
  });
  const filled = await run(
    'template',
    true,
    () =>
      steps.fillTemplate(
        {
          text: templateInputText(webText, pageTexts),
          context,
          template: input.template,
          targetLanguage: input.target_language,
          sourceLanguage: input.source_language,
        },
        signal,
      ),
    null,
  );
  const done = finishSessionMarkdown(filled!.markdown, filled!.structured_data, {
    pageTexts,
    images: gallery,
    videoUrl: input.video_url,
  });

  progress('write_markdown', 90, 'Markdown wird geschrieben');
  await run(
    'write_markdown',
    true,
    async () => {
      await mkdir(layout.abs.targetDir, { recursive: true });
      const tmp = `${layout.abs.markdownFile}.tmp-${process.pid}-${Date.now()}`;
      await writeFile(tmp, done.markdown, 'utf8');
      await rename(tmp, layout.abs.markdownFile);
    },
    undefined,
  );

  let archive: { path: string; filename: string; entries: string[] } | null = null;
  if (input.create_archive && opts.archive) {
    progress('archive', 93, 'Archiv wird erstellt');
    const target = opts.archive;
    archive = await run(
      'archive',
      false,
      async () => {
        const entries = await writeSessionArchive({
          archivePath: target.path,
          markdown: { filePath: layout.abs.markdownFile, name: layout.rel.markdownFile },
          images: gallery.map((g) => ({ filePath: join(opts.baseDir, ...g.split('/')), name: g })),
          readme: archiveReadme({
            event: input.event,
            session: input.session,
            track: input.track,
            targetLanguage: input.target_language,
            template: filled!.template ?? input.template,
            url: input.url,
            videoUrl: input.video_url,
            attachmentsUrl: input.attachments_url,
            markdownFile: layout.rel.markdownFile,
            assetDir: layout.rel.assetDir,
            imageCount: gallery.length,
            createdAt: new Date(),
          }),
          signal,
        });
        return { ...target, entries };
      },
      null,
    );
  } else skip('archive', input.create_archive ? 'no archive location' : 'create_archive false');

  return {
    layout,
    web_text: webText,
    page_title: page!.title,
    video_transcript: transcript,
    attachments: gallery,
    page_texts: pageTexts,
    markdown_content: done.markdown,
    structured_data: done.structured_data,
    template: filled!.template,
    context,
    archive_path: archive?.path ?? null,
    archive_filename: archive?.filename ?? null,
    archive_entries: archive?.entries ?? [],
    warnings,
    steps: records,
  };
};
