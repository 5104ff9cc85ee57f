/**
 * `/api/transformer/*` with `app.inject()`: JSON, multipart and urlencoded bodies, the real
 * client's exact JSON body (client-contract §2.4), synchronous answers, the ACK with a
 * callback, validation errors and 413 — jobs run by a real worker against the fake providers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeepPartial } from '../../src/config/load-config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import { startFakeProviders, type FakeProviders } from '../../src/fake-providers/index.js';
import { transformerJobTypes } from '../../src/handlers/transformer/transformer-handler.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import { tempDir } from '../helpers/worker-fixtures.js';
import { countJobs, createTestApi, type TestApi } from './api-fixtures.js';

let api: TestApi;
let fake: FakeProviders;
let tmp: { dir: string; cleanup: () => void };

const TEMPLATE = '---\ntitle: {{title|A title}}\n---\n# {{title|A title}}\n\n{{summary|A summary}}';

beforeAll(async () => {
  fake = await startFakeProviders();
  tmp = tempDir('secretary-transformer-api-');
  const templates = join(tmp.dir, 'templates');
  mkdirSync(templates);
  writeFileSync(join(templates, 'Notes_de.md'), TEMPLATE);
  writeFileSync(join(templates, 'Notes_en.md'), TEMPLATE.replace('A title', 'An English title'));
  const overrides: DeepPartial<SecretaryConfig> = {
    server: { body_limit_mb: 0.05 },
    security: { allow_private_urls: true },
    processors: { templates: { dir: templates } },
    llm: { providers: { openai: { base_url: fake.openaiBaseUrl, max_retries: 0 } } },
  };
  const config = loadConfig({ home: tmp.dir, env: {}, overrides });
  const models = new ModelGateway({
    llm: config.llm,
    cacheDir: config.paths.cache_dir,
    backoffBaseMs: 10,
  });
  api = await createTestApi({
    worker: true,
    config: overrides,
    register: (r) => {
      for (const def of transformerJobTypes({ config, models })) r.register(def);
    },
  });
});
afterAll(async () => {
  await api.close();
  await fake.close();
  tmp.cleanup();
});

const json = (url: string, payload: unknown) =>
  api.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
const form = (url: string, fields: Record<string, string>) =>
  api.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
const multipart = (url: string, fields: Record<string, string>) => {
  const boundary = '----secretary-test';
  const body =
    Object.entries(fields)
      .map(
        ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
      )
      .join('') + `--${boundary}--\r\n`;
  return api.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: body,
  });
};

describe('POST /api/transformer/template', () => {
  it("answers the real client's JSON body (callback_url null, wait_ms 0) synchronously with 200", async () => {
    const res = await json('/api/transformer/template', {
      text: 'Protokoll der Sitzung vom Montag über das Budget.',
      template_content: TEMPLATE,
      source_language: 'de',
      target_language: 'de',
      context: {},
      additional_field_descriptions: {},
      use_cache: false,
      callback_url: null,
      callback_token: null,
      wait_ms: 0,
      model: 'gpt-4o-mini',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.status).toBe('success');
    expect(body.error).toBeNull();
    expect(body.data).toMatchObject({
      language: 'de',
      format: 'text',
      structured_data: { title: 'title: Protokoll der Sitzung vom Montag über das Budget' },
    });
    expect(body.data.text).toContain('# title: Protokoll der Sitzung');
    expect(body.process.id).toMatch(/^job-/);
    expect(body.process.llm_info).toMatchObject({ requests_count: 1 });
    const job = await api.store.getJob(body.process.id);
    expect(job?.job_type).toBe('transformer');
    expect(job?.parameters).toMatchObject({ use_cache: false, model: 'gpt-4o-mini', context: {} });
  });

  it('accepts multipart (the wizard) with a template name and a language variant', async () => {
    const res = await multipart('/api/transformer/template', {
      text: 'Ein Text',
      template: 'notes',
      target_language: 'en',
      use_cache: 'false',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.template).toBe('Notes_en');
  });

  it('accepts x-www-form-urlencoded (the URL import form)', async () => {
    const res = await form('/api/transformer/template', {
      text: 'Ein Text',
      template: 'Notes',
      target_language: 'de',
      use_cache: 'false',
      context: '{"a":1}',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({
      template: 'Notes_de',
      structured_data: { summary: 'summary: Ein Text' },
    });
  });

  it('with callback_url answers the 202 ACK at once and stores the webhook', async () => {
    const res = await json('/api/transformer/template', {
      text: 'x',
      template: 'Notes',
      callback_url: 'http://127.0.0.1:9/cb/1',
      callback_token: 'secret-token',
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({
      status: 'accepted',
      webhook: { delivered_to: 'http://127.0.0.1:9/cb/1' },
    });
    expect(res.body).not.toContain('secret-token');
    const job = await api.store.getJob(body.job.id);
    expect(job?.webhook?.url).toBe('http://127.0.0.1:9/cb/1');
  });

  it('a positive wait_ms shorter than the job answers the ACK; the job goes on', async () => {
    const res = await json('/api/transformer/template', {
      text: 'slow [[fake:delay=1500]]',
      template: 'Notes',
      wait_ms: 100,
      use_cache: false,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().job.id).toMatch(/^job-/);
  });

  it('a failed job answers 4xx with the error, not an error inside a success (the original)', async () => {
    const res = await json('/api/transformer/template', {
      text: 'nothing [[fake:empty]]',
      template: 'Notes',
      use_cache: false,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      status: 'error',
      error: { code: 'TEMPLATE_TRANSFORMATION_ERROR' },
    });
  });

  it('refuses bad input with stable codes and stores nothing', async () => {
    const before = await countJobs(api.store);
    const both = await json('/api/transformer/template', {
      text: 'a',
      url: 'https://example.org',
      template: 'Notes',
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().error).toMatchObject({
      code: 'INVALID_PARAMETERS',
      details: [{ path: '/parameters/text', problem: 'exactly one of text and url is required' }],
    });
    const neither = await json('/api/transformer/template', { text: 'a' });
    expect(neither.json().error.details).toEqual([
      {
        path: '/parameters/template',
        problem: 'exactly one of template and template_content is required',
      },
    ]);
    const traversal = await form('/api/transformer/template', {
      text: 'a',
      template: '../../etc/passwd',
    });
    expect(traversal.statusCode).toBe(400);
    expect(traversal.json().error).toMatchObject({
      code: 'INVALID_PARAMETERS',
      details: [{ path: '/template' }],
    });
    const unknown = await json('/api/transformer/template', {
      text: 'a',
      template: 'Note',
      target_language: 'de',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
      details: { suggestions: ['Notes_de', 'Notes_en'] },
    });
    const badContext = await json('/api/transformer/template', {
      text: 'a',
      template: 'Notes',
      context: '[1]',
    });
    expect(badContext.json().error).toMatchObject({
      code: 'INVALID_PARAMETERS',
      details: [{ path: '/context' }],
    });
    const badProvider = await json('/api/transformer/template', {
      text: 'a',
      template: 'Notes',
      provider: 'nope',
    });
    expect(badProvider.json().error.details[0].path).toBe('/parameters/provider');
    expect(await countJobs(api.store)).toBe(before);
  });

  it('answers 413 to a JSON body over the limit', async () => {
    const res = await json('/api/transformer/template', {
      text: 'x'.repeat(80_000),
      template: 'Notes',
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('POST /api/transformer/text and /chat', () => {
  it('text: translates synchronously', async () => {
    const res = await json('/api/transformer/text', {
      text: 'Guten Tag',
      source_language: 'de',
      target_language: 'en',
      use_cache: false,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ language: 'en', format: 'text' });
    const bad = await json('/api/transformer/text', { text: 'x', target_format: 'PDF' });
    expect(bad.json().error.details).toEqual([
      { path: '/parameters/target_format', problem: expect.stringContaining('MARKDOWN') },
    ]);
  });

  it('chat: messages as an array or a JSON string, JSON reply checked against schema_json', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string' } },
      required: ['answer'],
    };
    const a = await json('/api/transformer/chat', {
      messages: [{ role: 'user', content: 'Hi' }],
      use_cache: false,
    });
    expect(a.statusCode, a.body).toBe(200);
    expect(a.json().data.text).toMatch(/^Antwort des Fake-Modells/);
    const b = await json('/api/transformer/chat', {
      messages: JSON.stringify([
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Hi' },
      ]),
      response_format: 'json_object',
      schema_json: JSON.stringify(schema),
      use_cache: false,
    });
    expect(b.statusCode, b.body).toBe(200);
    expect(b.json().data.structured_data).toEqual({ answer: expect.any(String) });
  });

  it('chat: refuses bad messages, schemas and unsupported options', async () => {
    const role = await json('/api/transformer/chat', {
      messages: [{ role: 'robot', content: 'x' }],
    });
    expect(role.statusCode).toBe(400);
    expect(role.json().error.code).toBe('INVALID_PARAMETERS');
    const notJson = await json('/api/transformer/chat', { messages: 'not json' });
    expect(notJson.json().error.details).toEqual([
      { path: '/messages', problem: 'must be valid JSON' },
    ]);
    const schema = await json('/api/transformer/chat', {
      messages: [{ role: 'user', content: 'x' }],
      schema_json: { type: 'objekt' },
    });
    expect(schema.json().error).toMatchObject({
      code: 'INVALID_PARAMETERS',
      details: [{ path: '/schema_json/type' }],
    });
    const id = await json('/api/transformer/chat', {
      messages: [{ role: 'user', content: 'x' }],
      schema_id: 'metadata',
    });
    expect(id.json().error.details[0].path).toBe('/parameters/schema_id');
  });
});
