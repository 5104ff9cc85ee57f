/**
 * The `session` job type (original §5.2, §8): a conference session's page, slides (PDF) and
 * video → a Markdown note from the `Session_<lang>` template, written to
 * `sessions/<event>/<lang>/<track>/<file>.md` with its slide images under
 * `sessions/<event>/assets/<session>/`, and a ZIP archive on disk.
 *
 * The session cache (key = the original's, §8 step 1) is read when `use_cache` (default true)
 * and the entry's fingerprint matches; a result whose non-fatal steps failed (video,
 * attachments, archive) is not cached, so the next run tries them again. A failed fatal step
 * fails the job with its code, the step in the message and in `details.step` (the original
 * answered "Keine Ausgabedaten vom SessionProcessor erhalten").
 */
import { resolve } from 'node:path';
import type { SecretaryConfig } from '../../config/defaults.js';
import type { ClaimedJob, Job } from '../../core/job.js';
import { cacheRelative } from '../../files/cache-layout.js';
import { isPdfMethod } from '../../processors/pdf/index.js';
import {
  processSession,
  sessionCacheKey,
  sessionFingerprint,
  sessionLayout,
  stepFailure,
  type SessionInput,
} from '../../processors/session/index.js';
import type { HandlerContext, JobTypeDefinition } from '../../worker/registry.js';
import { transformerFor } from '../shared/transformer.js';
import {
  flattenEntry,
  readSessionCache,
  sessionCacheDir,
  writeSessionCache,
  type SessionCacheRecord,
} from './session-cache.js';
import {
  sessionInputOf,
  sessionParameters,
  validateSessionParameters,
} from './session-parameters.js';
import { archiveUrlOf, buildSessionResults, sessionCallbackData } from './session-results.js';
import { attachmentsMethod, sessionSteps, type SessionDeps } from './session-steps.js';

/** The sessions base dir: `processors.session.base_dir` (relative to home), default `<home>/sessions`. */
export const sessionsBaseDir = (config: SecretaryConfig): string =>
  resolve(config.paths.home, config.processors.session.base_dir ?? 'sessions');

const archiveFileName = (input: SessionInput, fallback: string): string => {
  const stem = input.session
    .normalize('NFC')
    .replace(/[<>:"/\\|?*\p{Cc}\p{Cf}]/gu, '_')
    .replace(/_+/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '');
  return `${Array.from(stem).slice(0, 50).join('').trim() || fallback}.zip`;
};

export const runSessionJob = async (
  deps: SessionDeps,
  job: ClaimedJob,
  ctx: HandlerContext,
): Promise<Record<string, unknown>> => {
  const { config } = deps;
  const cacheDir = config.paths.cache_dir;
  const baseDir = sessionsBaseDir(config);
  const { input, options } = sessionInputOf(job.parameters);
  ctx.progress('initializing', 2, 'Session wird vorbereitet');
  const layout = sessionLayout(baseDir, {
    event: input.event,
    track: input.track,
    targetLanguage: input.target_language,
    filename: input.filename,
    session: input.session,
  });
  const method = attachmentsMethod(config, deps.models);
  // the template is resolved now: a missing one fails before any download
  let templateDigest: string;
  try {
    templateDigest = sessionFingerprint({
      content: transformerFor(deps).loadTemplate({
        template: input.template,
        targetLanguage: input.target_language,
      }).content,
    });
  } catch (err) {
    throw stepFailure('template', err, ctx.signal);
  }
  const cacheKey = sessionCacheKey(input);
  const fingerprint = sessionFingerprint({
    filename: layout.fileName,
    day: input.day,
    starttime: input.starttime,
    endtime: input.endtime,
    speakers: input.speakers,
    speakers_url: input.speakers_url,
    speakers_image_url: input.speakers_image_url,
    source_language: input.source_language,
    target: input.target,
    create_archive: input.create_archive,
    attachments_method: input.attachments_url ? method : null,
    model: options.model,
    provider: options.provider,
    template: templateDigest,
    base_dir: baseDir,
  });
  const archiveAbs = resolve(
    sessionCacheDir(cacheDir, cacheKey),
    `${fingerprint.slice(0, 16)}.zip`,
  );
  ctx.log(
    'info',
    `session ${JSON.stringify(input.session)} → sessions/${layout.rel.markdownFile} (cache key ${cacheKey.slice(0, 16)}…)`,
  );

  if (options.useCache && !options.force) {
    const hit = await readSessionCache(cacheDir, cacheKey, fingerprint, {
      markdownFile: layout.abs.markdownFile,
      archive: input.create_archive ? archiveAbs : null,
    });
    if (hit) {
      ctx.log(
        'info',
        `cache hit ${cacheKey.slice(0, 16)}… (made by ${hit.job_id} at ${hit.created_at})`,
      );
      ctx.progress('postprocessing', 95, 'Ergebnis aus dem Cache');
      return buildSessionResults(job, hit, {
        fromCache: true,
        warnings: [],
        attachmentsMethod: input.attachments_url ? method : null,
      });
    }
  }

  if (input.attachments_url) ctx.log('info', `attachments method ${method}`);
  const steps = sessionSteps(deps, job, ctx, options, method);
  const out = await processSession(input, steps, {
    baseDir,
    cacheKey,
    archive: input.create_archive
      ? { path: archiveAbs, filename: archiveFileName(input, layout.sessionDir) }
      : null,
    signal: ctx.signal,
    onProgress: (step, percent, message) => ctx.progress(step, percent, message),
    onLog: (level, message) => ctx.log(level, message),
  });
  ctx.progress('postprocessing', 96, 'Ergebnisse werden gespeichert');
  const record: SessionCacheRecord = {
    version: 1,
    cache_key: cacheKey,
    fingerprint,
    created_at: new Date().toISOString(),
    job_id: job.job_id,
    user_id: job.user_id,
    input: { ...input, filename: layout.fileName },
    output: {
      web_text: out.web_text,
      page_title: out.page_title,
      video_transcript: out.video_transcript,
      attachments: out.attachments,
      page_texts: out.page_texts,
      markdown_content: out.markdown_content,
      structured_data: out.structured_data,
      template: out.template,
      context: out.context,
      markdown_file: layout.rel.markdownFile,
      target_dir: layout.rel.targetDir,
      asset_dir: layout.rel.assetDir,
      archive_path: out.archive_path ? cacheRelative(cacheDir, out.archive_path) : null,
      archive_filename: out.archive_filename,
      archive_entries: out.archive_entries,
      steps: out.steps,
    },
  };
  if (out.warnings.length === 0) {
    await writeSessionCache(
      cacheDir,
      record,
      flattenEntry(record, { archiveUrl: out.archive_path ? archiveUrlOf(job.job_id) : null }),
    );
  } else {
    ctx.log(
      'warning',
      `not cached: ${out.warnings.map((w) => w.step).join(', ')} failed (the next run tries again)`,
    );
  }
  return buildSessionResults(job, record, {
    fromCache: false,
    warnings: out.warnings,
    attachmentsMethod: input.attachments_url ? method : null,
  });
};

export const sessionJobType = (deps: SessionDeps): JobTypeDefinition => {
  const configured = deps.config.processors.session.attachments_method;
  if (configured && !isPdfMethod(configured)) {
    throw new Error(
      `processors.session.attachments_method: ${configured} is not a pdf method; use one of the pdf job type's methods (e.g. preview_and_native)`,
    );
  }
  return {
    type: 'session',
    description:
      'Conference session → Markdown note: session page, attachments PDF (slides), video transcript, Session_<lang> template; files under sessions/<event>/<lang>/<track>/, archive.',
    parameters: sessionParameters,
    // a session may transcribe a whole talk (the video type's own limit)
    timeoutSec: 7200,
    validate: validateSessionParameters(deps.config, transformerFor(deps).templates),
    handler: (job, ctx) => runSessionJob(deps, job, ctx),
    callbackData: (job: Job, url) => sessionCallbackData(job, url),
  };
};
