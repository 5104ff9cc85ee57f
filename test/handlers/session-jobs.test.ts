/**
 * `session` and `event_summary` jobs end to end: the real SQLite store, worker and webhook
 * dispatcher, the registered `pdf` job type on a generated PDF, the real ModelGateway and
 * `openai` SDK against the fake providers (and a recording model for slide objects), a
 * loopback conference site, the bundled `Session_de` template — and the files on disk.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Job } from '../../src/core/job.js';
import { bundledTemplatesDir } from '../../src/processors/templates/index.js';
import { toneVideo } from '../processors/helpers/make-media.js';
import { startReceiver, type Receiver } from '../webhooks/receiver.js';
import { isTerminalBody, ofJob, until } from '../webhooks/harness.js';
import { startTransformerHarness, type TransformerHarness } from './transformer-harness.js';
import {
  SLIDES,
  sessionPage,
  startRecordingModel,
  startSessionSite,
  userPrompt,
  type RecordingModel,
  type SessionSite,
} from './session-site.js';

let h: TransformerHarness;
let site: SessionSite;
let receiver: Receiver;
let recorded: RecordingModel;
const R = (j: Job) => j.results as Record<string, any>;

const SLIDE_REPLY = {
  title: 'Offene Hardware',
  subtitle: 'Reparieren statt wegwerfen',
  speakers: 'Jane Doe',
  day: '2025-02-01',
  tags: 'open-hardware, repair',
  topic: 'offene Hardware',
  relevance: '8',
  slides: [
    { page_num: 2, title: 'Öffentliches Geld', summary: 'Wer die Wartung bezahlt.' },
    { page_num: 1, title: 'Repair-Cafés', summary: 'Schaltpläne unter offenen Lizenzen.' },
  ],
  intro: 'Eine Einführung.',
  summary: 'Zusammenfassung.',
  ecosocial: 'Bedeutung.',
  attachment_links: '- [Folien](http://x)',
};

beforeAll(async () => {
  site = await startSessionSite();
  site.set('/talk/42', {
    type: 'text/html; charset=utf-8',
    body: sessionPage('Open Hardware for Repair Cafes', 'Jane Doe'),
  });
  site.set('/talk/43', {
    type: 'text/html; charset=utf-8',
    body: sessionPage('Public Money Public Code', 'John Roe'),
  });
  site.set('/talk/44', {
    type: 'text/html; charset=utf-8',
    body: sessionPage('Energy Communities', 'Ann Poe'),
  });
  const media = mkdtempSync(join(tmpdir(), 'secretary-session-media-'));
  site.set('/talk.mp4', {
    type: 'video/mp4',
    body: readFileSync(toneVideo(join(media, 'talk.mp4'), 440, 3)),
  });
  rmSync(media, { recursive: true, force: true });
  recorded = await startRecordingModel(() => JSON.stringify(SLIDE_REPLY));
  receiver = await startReceiver();
  h = await startTransformerHarness(
    { processors: { templates: { dir: bundledTemplatesDir() } } },
    { recorded: { base_url: recorded.base } },
  );
});
afterAll(async () => {
  await h.close();
  await receiver.close();
  await recorded.close();
  await site.close();
});

const sessionsDir = () => join(h.config.paths.home, 'sessions');
const run = async (parameters: Record<string, unknown>, webhook = false) => {
  const job = await h.enqueue({
    job_type: 'session',
    parameters,
    ...(webhook ? { webhook: { url: receiver.url('/cb'), token: 'tok' } } : {}),
  });
  return h.settled(job.job_id, 90_000);
};
const frontmatter = (md: string) =>
  parseYaml(/^---\n([\s\S]*?)\n---/.exec(md)![1]!) as Record<string, any>;

const base = () => ({
  event: 'Conf 2025',
  session: 'Open Hardware for Repair Cafes',
  url: `${site.base}/talk/42`,
  track: 'Main-Track-Janson-7',
  day: '2025-02-01',
  starttime: '10:00',
  endtime: '10:50',
  speakers: ['Jane Doe'],
  source_language: 'en',
  target_language: 'de',
});

describe('session job', () => {
  let first: Job;

  it('writes the note, the slide images and the archive (seed 001 shape: extra.create_archive, extra.template)', async () => {
    first = await run(
      {
        ...base(),
        filename: 'Open-Hardware-for-Repair-Cafes.md',
        attachments_url: `${site.base}/slides.pdf`,
        video_url: 'https://player.vimeo.com/video/123',
        video_transcript: 'Welcome to the talk about repair cafes and open schematics.',
        use_cache: true,
        extra: { create_archive: true, template: 'Session' },
      },
      true,
    );
    expect(first.status, JSON.stringify(first.error)).toBe('completed');
    const r = R(first);
    expect(r.markdown_file).toBe(
      'sessions/Conf 2025/de/Main-Track-Janson-7/Open-Hardware-for-Repair-Cafes.md',
    );
    expect(r.target_dir).toBe('sessions/Conf 2025/de/Main-Track-Janson-7');
    expect(r.asset_dir).toBe('sessions/Conf 2025/assets/Open-Hardware-for-Repair-Cafes');
    expect(r.template).toBe('Session_de');
    expect(r.warnings).toEqual([]);
    expect(r.is_from_cache).toBe(false);

    const onDisk = readFileSync(
      join(
        sessionsDir(),
        'Conf 2025',
        'de',
        'Main-Track-Janson-7',
        'Open-Hardware-for-Repair-Cafes.md',
      ),
      'utf8',
    );
    expect(onDisk).toBe(r.markdown_content);
    const fm = frontmatter(onDisk);
    // the fixed engine keeps `date: {{day|…}}` (the fake answers "<field>: <first words of TEXT>")
    expect(fm.date).toMatch(/^day: Webtext Open Hardware/);
    expect(fm.track).toBe('Main-Track-Janson-7');
    expect(fm.cacheId).toBe(r.cache_key);
    expect(fm.source).toBe(`${site.base}/talk/42`);
    expect(onDisk).toContain(
      '<iframe src="https://player.vimeo.com/video/123" width="640" height="360"',
    );
    expect(onDisk).not.toMatch(/\{slides\}|\{videoplayer\}/);

    // slide images and page texts from the registered pdf type
    const assets = join(sessionsDir(), 'Conf 2025', 'assets', 'Open-Hardware-for-Repair-Cafes');
    expect(readdirSync(assets).sort()).toEqual(['preview_001.jpg', 'preview_002.jpg']);
    expect(r.attachments).toEqual([
      'Conf 2025/assets/Open-Hardware-for-Repair-Cafes/preview_001.jpg',
      'Conf 2025/assets/Open-Hardware-for-Repair-Cafes/preview_002.jpg',
    ]);
    expect(r.page_texts).toHaveLength(2);
    expect(r.page_texts[1]).toContain('Public money, public code');
    // slides: the fake answers a list of strings; each becomes a slide of its position
    expect(fm.slides).toHaveLength(2);
    expect(fm.slides[0]).toMatchObject({ page_num: 1, image_url: r.attachments[0] });
    expect(Buffer.from(fm.slides[1].slide_text, 'base64').toString('utf8')).toBe(r.page_texts[1]);
    expect(onDisk).toContain(`| ![[${r.attachments[0]}\\|300]] |`);
    expect(r.structured_data.slides).toEqual(fm.slides);

    // the archive is a file: markdown at its relative path, the images, a README
    expect(r.archive_filename).toBe('Open Hardware for Repair Cafes.zip');
    expect(r.archive_url).toBe(`/api/jobs/${first.job_id}/download-archive`);
    expect(r.archive_data).toBeUndefined();
    const zip = unzipSync(
      readFileSync(join(h.config.paths.cache_dir, r.archive_path.replace(/^cache\//, ''))),
    );
    expect(Object.keys(zip).sort()).toEqual([
      'Conf 2025/assets/Open-Hardware-for-Repair-Cafes/preview_001.jpg',
      'Conf 2025/assets/Open-Hardware-for-Repair-Cafes/preview_002.jpg',
      'Conf 2025/de/Main-Track-Janson-7/Open-Hardware-for-Repair-Cafes.md',
      'README.md',
    ]);
    expect(
      Buffer.from(
        zip['Conf 2025/de/Main-Track-Janson-7/Open-Hardware-for-Repair-Cafes.md']!,
      ).toString('utf8'),
    ).toBe(onDisk);
    const readme = Buffer.from(zip['README.md']!).toString('utf8');
    expect(readme).toContain(`Session-URL: ${site.base}/talk/42`);
    expect(readme).toContain('Anhänge-URL: ' + `${site.base}/slides.pdf`);
    expect(readme).toContain('Template: Session_de');

    // the video step was skipped (transcript given), every step recorded; the model call is in llm_info
    expect(r.steps.map((s: any) => `${s.step}:${s.status}`)).toEqual([
      'fetch_page:done',
      'video:skipped',
      'attachments:done',
      'template:done',
      'write_markdown:done',
      'archive:done',
    ]);
    expect(r.video_transcript).toBe('Welcome to the talk about repair cafes and open schematics.');
    expect(r.context.video_transcript).toBe(r.video_transcript);
    // attachments by Mistral OCR (the original's method) when the ocr use case is configured
    expect(r.envelope.process.attachments_method).toBe('preview_and_mistral_ocr');
    expect(first.llm_info?.requests.map((q) => q.purpose)).toEqual(['ocr', 'template_transform']);
    expect(h.fake.requestsOf('mistral.ocr').length).toBeGreaterThan(0);
  });

  it('sends progress and exactly one completed webhook with data.output as the client reads it', async () => {
    await until(
      () => ofJob(receiver.requests, first.job_id).some(isTerminalBody),
      15_000,
      'completed webhook',
    );
    const bodies = ofJob(receiver.requests, first.job_id).map((q) => q.body);
    const terminal = bodies.filter((b) => b.phase === 'completed' || b.phase === 'error');
    expect(terminal).toHaveLength(1);
    expect(terminal[0]!.phase).toBe('completed');
    const out = terminal[0]!.data.output;
    expect(out.markdown_content).toBe(R(first).markdown_content);
    expect(out.markdown_file).toBe(R(first).markdown_file);
    expect(out.archive_filename).toBe('Open Hardware for Repair Cafes.zip');
    expect(out.archive_url).toBe(`/api/jobs/${first.job_id}/download-archive`);
    expect(out.archive_data).toBeNull();
    expect(terminal[0]!.data.input.event).toBe('Conf 2025');
    expect(bodies.some((b) => b.phase !== 'completed' && typeof b.progress === 'number')).toBe(
      true,
    );
  });

  it('answers the second run from the session cache, and runs again with use_cache false', async () => {
    const chats = h.fake.requestsOf('openai.chat').length;
    const again = await run({
      ...base(),
      filename: 'Open-Hardware-for-Repair-Cafes.md',
      attachments_url: `${site.base}/slides.pdf`,
      video_url: 'https://player.vimeo.com/video/123',
      video_transcript: 'Welcome to the talk about repair cafes and open schematics.',
      extra: { create_archive: true, template: 'Session' },
    });
    expect(again.status).toBe('completed');
    expect(R(again).is_from_cache).toBe(true);
    expect(R(again).markdown_content).toBe(R(first).markdown_content);
    expect(R(again).archive_path).toBe(R(first).archive_path);
    expect(R(again).archive_url).toBe(`/api/jobs/${again.job_id}/download-archive`);
    expect(h.fake.requestsOf('openai.chat').length).toBe(chats);
    // a different speaker list changes the fingerprint: no stale hit
    const other = await run({
      ...base(),
      speakers: ['Jane Doe', 'Max Mustermann'],
      filename: 'Open-Hardware-for-Repair-Cafes.md',
      attachments_url: `${site.base}/slides.pdf`,
      video_transcript: 'Welcome to the talk about repair cafes and open schematics.',
      video_url: 'https://player.vimeo.com/video/123',
    });
    expect(R(other).is_from_cache).toBe(false);
    const fresh = await run({
      ...base(),
      use_cache: false,
      create_archive: false,
      filename: 'Open-Hardware-for-Repair-Cafes.md',
    });
    expect(R(fresh).is_from_cache).toBe(false);
    expect(R(fresh).archive_path).toBeNull();
    expect(R(fresh).steps.at(-1)).toMatchObject({ step: 'archive', status: 'skipped' });
    expect(h.fake.requestsOf('openai.chat').length).toBe(chats + 2);
  });

  it('derives the file name from the session title when filename is absent; removes {videoplayer} without video', async () => {
    const j = await run({
      ...base(),
      session: 'Public Money: Public Code?',
      url: `${site.base}/talk/43`,
      track: 'Policy',
    });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    expect(R(j).markdown_file).toBe('sessions/Conf 2025/de/Policy/Public Money_ Public Code.md');
    expect(R(j).markdown_content).not.toMatch(/<iframe|<video|\{videoplayer\}|## Slides:/);
    expect(R(j).attachments).toEqual([]);
  });

  it('transcribes the video_url through the registered video job type (source language, inside this job)', async () => {
    const j = await run({
      ...base(),
      track: 'Video',
      video_url: `${site.base}/talk.mp4`,
      provider: 'recorded',
      use_cache: false,
    });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = R(j);
    expect(r.warnings).toEqual([]);
    expect(r.steps.find((s: any) => s.step === 'video')).toMatchObject({ status: 'done' });
    // the fake names a voiced stretch by its tone; whitespace is collapsed to single spaces
    expect(r.video_transcript).toMatch(/Ton 440 Hz/);
    expect(r.video_transcript).not.toMatch(/\n|\s{2}/);
    expect(j.llm_info?.requests.map((q) => q.purpose)).toEqual([
      'transcription',
      'template_transform',
    ]);
    expect(h.fake.requestsOf('openai.transcriptions').at(-1)!.summary).toMatchObject({
      language: 'en',
    });
    // the transcript reaches the model inside the CONTEXT JSON, as in the original
    expect(userPrompt(recorded.bodies.at(-1)!)).toContain(
      `"video_transcript": ${JSON.stringify(r.video_transcript)}`,
    );
    expect(r.markdown_content).toContain(`<video src="${site.base}/talk.mp4" controls></video>`);
  });

  it('fills slides from a model that answers slide objects (page order, titles, summaries)', async () => {
    const j = await run({
      ...base(),
      url: `${site.base}/talk/42`,
      attachments_url: `${site.base}/slides.pdf`,
      track: 'Recorded',
      provider: 'recorded',
      use_cache: false,
    });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = R(j);
    const prompt = userPrompt(recorded.bodies.at(-1)!);
    expect(prompt).toContain('TEXT:\n# Webtext:\n# Open Hardware for Repair Cafes');
    expect(prompt).toContain(
      `# Slidesdescription:\nDescription Slide 1:\n ${r.page_texts[0]} \n\nDescription Slide 2:`,
    );
    expect(prompt).toContain('"cache_key": "' + r.cache_key + '"');
    const slides = frontmatter(r.markdown_content).slides;
    expect(slides.map((s: any) => [s.page_num, s.title, s.image_url])).toEqual([
      [2, 'Öffentliches Geld', r.attachments[1]],
      [1, 'Repair-Cafés', r.attachments[0]],
    ]);
    expect(Buffer.from(slides[0].slide_text, 'base64').toString('utf8')).toContain(SLIDES[1]![0]!);
    expect(r.markdown_content).toContain(
      `| ![[${r.attachments[1]}\\|300]] | **Öffentliches Geld** — Wer die Wartung bezahlt. |`,
    );
    expect(frontmatter(r.markdown_content).date).toBe('2025-02-01');
  });
});

describe('session failures', () => {
  it('a 404 session page fails the job naming the fetch_page step, with one error webhook', async () => {
    const j = await run({ ...base(), url: `${site.base}/talk/missing`, track: 'Broken' }, true);
    expect(j.status).toBe('failed');
    expect(j.error?.code).toBe('URL_NOT_FOUND');
    expect(j.error?.message).toMatch(/^step fetch_page failed: /);
    expect(j.error?.details).toMatchObject({ step: 'fetch_page' });
    expect(j.attempts).toBe(1);
    await until(
      () => ofJob(receiver.requests, j.job_id).some(isTerminalBody),
      15_000,
      'error webhook',
    );
    await new Promise((r) => setTimeout(r, 300));
    const terminal = ofJob(receiver.requests, j.job_id).filter(isTerminalBody);
    expect(terminal).toHaveLength(1);
    expect(terminal[0]!.body).toMatchObject({
      phase: 'error',
      error: { code: 'URL_NOT_FOUND', details: { step: 'fetch_page' } },
    });
    expect(existsSync(join(sessionsDir(), 'Conf 2025', 'de', 'Broken'))).toBe(false);
  });

  it('a failing attachments PDF or video is a warning: the note is written without slides, and not cached', async () => {
    const params = {
      ...base(),
      track: 'Degraded',
      attachments_url: `${site.base}/missing.pdf`,
      video_url: `${site.base}/missing.webm`,
    };
    const j = await run(params);
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = R(j);
    expect(r.warnings.map((w: any) => w.step).sort()).toEqual(['attachments', 'video']);
    expect(r.warnings.find((w: any) => w.step === 'attachments').code).toBe('URL_NOT_FOUND');
    expect(r.attachments).toEqual([]);
    expect(r.video_transcript).toBe('');
    expect(r.markdown_content).not.toContain('## Slides:');
    // the model's invented slides (there are no pages) are dropped
    expect(frontmatter(r.markdown_content).slides).toEqual([]);
    expect(r.markdown_content).toContain(
      `<video src="${site.base}/missing.webm" controls></video>`,
    );
    expect(
      j.logs?.some((l) => l.level === 'warning' && l.message.includes('step attachments failed')),
    ).toBe(true);
    const again = await run(params);
    expect(R(again).is_from_cache).toBe(false);
  });

  it('an unknown template fails at enqueue; at run time the template step is named', async () => {
    await expect(run({ ...base(), template: 'NoSuchTemplate' })).rejects.toThrow(/template/);
    // stored without validation (e.g. the template file was removed since): fails before any download
    const { job } = await h.store.createJob({
      job_type: 'session',
      parameters: { ...base(), track: 'Gone', template: 'NoSuchTemplate' },
    });
    const j = await h.settled(job.job_id);
    expect(j.error?.code).toBe('TEMPLATE_NOT_FOUND');
    expect(j.error?.message).toMatch(/^step template failed: no template "NoSuchTemplate"/);
    expect(j.error?.details).toMatchObject({ step: 'template' });
  });

  it('refuses path traversal in event, track and filename at enqueue; sanitises separators', async () => {
    const problems = h.registry.validate('session', {
      ...base(),
      event: '../../etc',
      track: 'a/../../b',
      filename: '..\\x.md',
    });
    expect(problems.map((p) => p.path)).toEqual([
      '/parameters/event',
      '/parameters/track',
      '/parameters/filename',
    ]);
    const j = await run({
      ...base(),
      event: 'Conf/2025\\x',
      track: 'A:B|C',
      filename: 'sub/dir.md',
    });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    expect(R(j).markdown_file).toBe('sessions/Conf_2025_x/de/A_B_C/sub_dir.md');
    expect(existsSync(join(sessionsDir(), 'Conf_2025_x', 'de', 'A_B_C', 'sub_dir.md'))).toBe(true);
    expect(readdirSync(h.config.paths.home).sort()).toEqual([
      'cache',
      'data',
      'sessions',
      'templates',
    ]);
  });

  it('names every missing required field', () => {
    const problems = h.registry.validate('session', { extra: { template: 'Session' } });
    expect(problems.map((p) => p.path)).toEqual([
      '/parameters/event',
      '/parameters/session',
      '/parameters/url',
      '/parameters/track',
    ]);
  });
});

describe('event_summary job', () => {
  it('summarises the cached sessions of the event through Event_eco_social_de', async () => {
    await run({
      ...base(),
      session: 'Energy Communities',
      url: `${site.base}/talk/44`,
      track: 'Energy',
    });
    const chats = h.fake.requestsOf('openai.chat').length;
    const job = await h.enqueue({
      job_type: 'event_summary',
      parameters: { event: 'Conf 2025', target_language: 'de' },
    });
    const j = await h.settled(job.job_id, 60_000);
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = R(j);
    expect(r.template).toBe('Event_eco_social_de');
    expect(r.markdown_file).toBe('sessions/Conf 2025/de/event_summary.md');
    expect(readFileSync(join(sessionsDir(), 'Conf 2025', 'de', 'event_summary.md'), 'utf8')).toBe(
      r.markdown_content,
    );
    expect(r.tracks).toEqual(
      expect.arrayContaining(['Energy', 'Main-Track-Janson-7', 'Policy', 'Recorded']),
    );
    expect(r.session_count).toBeGreaterThanOrEqual(4);
    // the fake echoes the first words of the input text into each field
    expect(r.structured_data.general_summary).toMatch(/^general_summary: Event Conf 2025/);
    expect(h.fake.requestsOf('openai.chat').length).toBe(chats + 1);
    const none = await h.settled(
      (await h.enqueue({ job_type: 'event_summary', parameters: { event: 'Nothing Here' } }))
        .job_id,
    );
    expect(none.error?.code).toBe('NOT_FOUND');
    expect(none.error?.message).toContain('process its sessions first');
  });
});
