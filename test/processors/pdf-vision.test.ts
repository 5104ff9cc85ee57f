/**
 * The `llm*` methods of `extractPdf` with the vision page provider, through the real gateway
 * and the `openai` SDK against the fake OpenAI API: page images of the configured size, the
 * original's prompt with its context adjustments, the per-method sections, usage per page,
 * and a provider failure failing the run (no silent fallback to native text).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { SecretaryError } from '../../src/core/errors.js';
import { addLlmRequest, type LlmInfo } from '../../src/core/job.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import {
  createVisionPageProvider,
  extractPdf,
  visionPagePrompt,
  type PdfMethod,
} from '../../src/processors/pdf/index.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { textPdf, writeTemp } from './helpers/make-docs.js';

let fake: FakeProviders;
let home: { dir: string; cleanup: () => void };
let gw: ModelGateway;
let usage: LlmInfo | null = null;
let file: string;
let runs = 0;

beforeAll(async () => {
  fake = await startFakeProviders();
  home = tempDir('secretary-vision-');
  const config = loadConfig({
    home: home.dir,
    env: {},
    overrides: { llm: { providers: { openai: { base_url: fake.openaiBaseUrl, max_retries: 1 } } } },
  });
  gw = new ModelGateway({ llm: config.llm, cacheDir: join(home.dir, 'cache'), backoffBaseMs: 5 });
  file = await writeTemp(
    home.dir,
    'two.pdf',
    await textPdf([['Erste Seite über Almwiesen.'], ['Zweite Seite mit Enzian.']]),
  );
});
afterAll(async () => {
  await fake.close();
  home.cleanup();
});
beforeEach(() => {
  fake.reset();
  usage = null;
});

const run = (method: PdfMethod, context: Record<string, unknown> | null = null, dpi?: number) =>
  extractPdf({
    filePath: file,
    workDir: join(home.dir, 'work', `r${++runs}`),
    method,
    llm: createVisionPageProvider({
      chat: (req) => gw.chat('vision', req),
      context,
      usage: { record: (r) => (usage = addLlmRequest(usage, { ...r, timestamp: '' })) },
      concurrency: 2,
    }),
    ...(dpi ? { visionDpi: dpi } : {}),
  });

describe('vision LLM methods', () => {
  it('llm: one vision request per page with a 300-DPI image fit into 2048 px and the German prompt', async () => {
    const r = await run('llm');
    expect(r.text_contents.map((t) => t.page)).toEqual([1, 2]);
    // the fake describes the image it got: A4 at 300 DPI is 2481×3508, fit into 2048 → 1448×2048
    expect(r.text_contents[0]!.content).toContain('Eine Seite von 1448×2048 Pixeln');
    expect(r.text_contents[0]!.content).toContain(
      '(Auftrag: Konvertiere den Text dieses Bildes in',
    );
    expect(r.extracted_text).toMatch(/^\n--- Seite 1 ---\n## Bild 1/);
    const chats = fake.requestsOf('openai.chat');
    expect(chats).toHaveLength(2);
    expect(chats[0]!.summary).toMatchObject({
      model: 'gpt-4o',
      temperature: 0.1,
      max_tokens: 4000,
    });
    expect(usage?.requests.map((q) => q.purpose)).toEqual([
      'image_to_markdown',
      'image_to_markdown',
    ]);
    expect(usage?.requests[0]!.tokens).toBeGreaterThan(85);
  });

  it('the render DPI is configurable', async () => {
    const r = await run('llm', null, 100);
    // A4 at 100 DPI: 827×1170 (mupdf rounds outward; below the 2048 px box, not scaled)
    expect(r.text_contents[0]!.content).toContain('Eine Seite von 827×1170 Pixeln');
  });

  it('llm_and_native and llm_and_ocr combine the sources per page under the original headers', async () => {
    const a = await run('llm_and_native');
    expect(a.text_contents[1]!.content).toMatch(
      /^=== Native Text ===\nZweite Seite mit Enzian\.\n\n=== LLM Markdown ===\n## Bild 1/,
    );
    const b = await run('llm_and_ocr');
    expect(b.text_contents[0]!.content).toMatch(
      /^=== LLM Markdown ===\n## Bild 1[\s\S]*\n\n=== Tesseract OCR ===\n.*Almwiesen/,
    );
  }, 60_000);

  it('the context adjusts the prompt (language, document type, formulas, tables)', async () => {
    const en = await run('llm', { language: 'en' });
    expect(en.text_contents[0]!.content).toContain('(Auftrag: Convert the text of this image');
    const p = visionPagePrompt({
      document_type: 'scientific_paper',
      extract_formulas: true,
      focus_on_tables: 'true',
      preserve_formatting: false,
    });
    expect(p).toContain('Besondere Aufmerksamkeit auf: Formeln, Referenzen');
    expect(p).toContain('LaTeX-Notation');
    expect(p).toContain('Fokus auf die korrekte Extraktion und Formatierung von Tabellen');
    expect(p).not.toContain('ursprüngliche Formatierung');
    expect(visionPagePrompt({ document_type: 'presentation' })).toContain('Folientitel');
  });

  it('a vision failure fails the run with the provider code, never falls back to native text', async () => {
    fake.fail('openai.chat', { status: 400, message: 'image too large' });
    const err = await run('llm_and_native').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SecretaryError);
    expect((err as SecretaryError).code).toBe('LLM_REQUEST_FAILED');
    expect((err as SecretaryError).message).toContain('image too large');
  });
});
