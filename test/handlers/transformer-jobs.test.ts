/**
 * Transformer jobs through the real store, worker, ModelGateway and `openai` SDK against the
 * local fake: filled Markdown and structured_data, the §6 fixes end to end, repair and retry,
 * cost over calls, the response cache, provider outage (one error webhook), cancel.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Job } from '../../src/core/job.js';
import { until } from '../api/api-fixtures.js';
import { startReceiver, type Receiver } from '../webhooks/receiver.js';
import {
  PRICE,
  startTransformerHarness,
  writeTemplate,
  type TransformerHarness,
} from './transformer-harness.js';

let h: TransformerHarness;
let receiver: Receiver;

const SESSION = `---
title: {{title|A title for the session}}
speaker: {{speakers|Speakers, comma separated}}
date: {{day|Date as yyyy-mm-dd}}
track: {{track}}
cacheId: {{cache_key}}
kind: talk
---
# {{title|A title for the session}}

{{summary|A summary of the session}}

{videoplayer}

--- systemprompt
You summarise talks. Answer in {target_language}.
`;

const TEXT = 'Ada Lovelace spoke about analytical engines in Bolzano on 2024-11-08.';

beforeAll(async () => {
  h = await startTransformerHarness();
  writeTemplate(h.templatesDir, 'Session_de', SESSION);
  writeTemplate(h.templatesDir, 'Echo', '# {{title|Title}}\n\n{{text}}');
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  await h.close();
});
beforeEach(() => h.fake.reset());

const run = async (
  parameters: Record<string, unknown>,
  over: Partial<Parameters<TransformerHarness['enqueue']>[0]> = {},
): Promise<Job> => {
  const job = await h.enqueue({
    job_type: 'transformer',
    parameters: { use_cache: false, ...parameters },
    ...over,
  });
  return h.settled(job.job_id);
};
const results = (j: Job) => j.results as Record<string, any>;
const fm = (doc: string) =>
  parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(doc)![1]!) as Record<string, unknown>;
const expectedCost = (r: { prompt_tokens?: number; completion_tokens?: number }) =>
  ((r.prompt_tokens ?? 0) * PRICE.input + (r.completion_tokens ?? 0) * PRICE.output) / 1e6;

describe('template job', () => {
  it('completes with filled Markdown, structured_data, envelope and usage with cost', async () => {
    const j = await run({
      text: TEXT,
      template: 'session',
      target_language: 'de',
      context: { track: 'Main', cache_key: 'ck-1' },
    });
    expect(j.status, JSON.stringify(j.error)).toBe('completed');
    const r = results(j);
    expect(r.template).toBe('Session_de');
    expect(r.format).toBe('text');
    expect(r.language).toBe('de');
    expect(Object.keys(r.structured_data)).toEqual(['title', 'speakers', 'day', 'summary']);
    expect(r.structured_data.title).toBe(
      'title: Ada Lovelace spoke about analytical engines in Bolzano',
    );
    // §6.2: frontmatter keys whose placeholder differs get their value (original: "")
    expect(fm(r.text)).toEqual({
      title: r.structured_data.title,
      speaker: r.structured_data.speakers,
      date: r.structured_data.day,
      track: 'Main',
      cacheId: 'ck-1',
      kind: 'talk',
    });
    // §6.3: the body heading is not quoted (original: # "…")
    expect(r.text).toContain(`\n# ${r.structured_data.title}\n`);
    expect(r.text).toContain('{videoplayer}');
    expect(r.markdown_content).toBe(r.text);
    expect(r.envelope.data).toMatchObject({ text: r.text, structured_data: r.structured_data });
    // one call, JSON schema sent, priced from the table
    const calls = h.fake.requestsOf('openai.chat');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.summary).toMatchObject({
      response_format: 'json_schema',
      schema: 'template_fields',
    });
    expect(j.llm_info?.requests_count).toBe(1);
    const req = j.llm_info!.requests[0]!;
    expect(req).toMatchObject({
      purpose: 'template_transform',
      processor: 'TransformerProcessor',
      provider: 'openai',
      from_cache: false,
    });
    expect(req.cost).toBeCloseTo(expectedCost(req), 10);
    expect(j.llm_info?.total_cost).toBeCloseTo(expectedCost(req), 10);
    // what the webhook / SSE `completed` data carries
    expect(h.registry.get('transformer')!.callbackData!(j, (p) => p)).toEqual({
      text: r.text,
      structured_data: r.structured_data,
      language: 'de',
      format: 'text',
    });
  });

  it('asks for additional_field_descriptions (original: ignored in template mode)', async () => {
    const j = await run({
      text: TEXT,
      template_content: SESSION,
      additional_field_descriptions: {
        venue: 'The city where it took place',
        keywords: 'Array of keywords',
      },
    });
    const r = results(j);
    expect(r.fields).toEqual(['title', 'speakers', 'day', 'summary', 'venue', 'keywords']);
    expect(r.structured_data.venue).toBe(
      'venue: Ada Lovelace spoke about analytical engines in Bolzano',
    );
    expect(Array.isArray(r.structured_data.keywords)).toBe(true);
  });

  it('the same template is registered as transformer_template', async () => {
    const job = await h.enqueue({
      job_type: 'transformer_template',
      parameters: { text: TEXT, template: 'Echo', use_cache: false },
    });
    const j = await h.settled(job.job_id);
    expect(j.status).toBe('completed');
    expect(results(j).text).toBe(
      `# title: Ada Lovelace spoke about analytical engines in Bolzano\n\n${TEXT}`,
    );
  });

  it('repairs a fenced reply with chatter without a second call', async () => {
    const j = await run({ text: `${TEXT} [[fake:fence]]`, template: 'Echo' });
    expect(j.status).toBe('completed');
    expect(results(j).repairs).toContain('code fence');
    expect(h.fake.requestsOf('openai.chat')).toHaveLength(1);
  });

  it('samples once more at a higher temperature when the reply is broken, and sums the cost of both calls', async () => {
    const j = await run({ text: `${TEXT} [[fake:malformed_once]]`, template_content: SESSION });
    expect(j.status).toBe('completed');
    const calls = h.fake.requestsOf('openai.chat');
    expect(calls.map((c) => c.summary.temperature)).toEqual([0.1, 0.5]);
    expect(results(j).warnings).toEqual([]);
    expect(Object.values(results(j).structured_data).every((v) => v !== null)).toBe(true);
    expect(j.llm_info?.requests_count).toBe(2);
    const sum = j.llm_info!.requests.reduce((n, r) => n + expectedCost(r), 0);
    expect(j.llm_info?.total_cost).toBeCloseTo(sum, 10);
    expect(j.logs.some((l) => l.message.includes('asking once more'))).toBe(true);
  });

  it('fails with TEMPLATE_TRANSFORMATION_ERROR when neither reply is JSON (original: success with error strings)', async () => {
    const j = await run({ text: `${TEXT} [[fake:empty]]`, template: 'Echo' }, { max_attempts: 3 });
    expect(j.status).toBe('failed');
    expect(j.error?.code).toBe('TEMPLATE_TRANSFORMATION_ERROR');
    expect(j.error?.message).toMatch(/after one retry/);
    expect(j.attempts).toBe(1);
    expect(h.fake.requestsOf('openai.chat')).toHaveLength(2);
  });

  it('keeps what a cut-off reply holds, sets missing fields to null and says so', async () => {
    const j = await run({ text: `${TEXT} [[fake:malformed]]`, template_content: SESSION });
    expect(j.status).toBe('completed');
    const r = results(j);
    expect(r.repairs).toContain('closed a cut-off reply');
    expect(r.warnings[0]).toMatch(/missing/);
    expect(Object.keys(r.structured_data)).toEqual(
      expect.arrayContaining(['title', 'speakers', 'day', 'summary']),
    );
  });

  it('reports total_cost null for a model without a price', async () => {
    const j = await run({ text: TEXT, template: 'Echo', model: 'unpriced-model' });
    expect(j.status).toBe('completed');
    expect(j.llm_info?.requests[0]).toMatchObject({ model: 'unpriced-model', cost: null });
    expect(j.llm_info?.total_cost).toBeNull();
  });

  it('answers a repeated request from the cache at cost 0 and says so', async () => {
    const params = { text: `${TEXT} cached`, template: 'Echo', use_cache: true };
    const first = await run(params);
    const second = await run(params);
    expect(h.fake.requestsOf('openai.chat')).toHaveLength(1);
    expect(results(first).is_from_cache).toBe(false);
    expect(results(second).is_from_cache).toBe(true);
    expect(results(second).envelope.process.is_from_cache).toBe(true);
    expect(second.llm_info?.requests[0]).toMatchObject({ from_cache: true, cost: 0, tokens: 0 });
    expect(second.llm_info?.total_cost).toBe(0);
    expect(results(second).structured_data).toEqual(results(first).structured_data);
  });

  it('fails with LLM_REQUEST_FAILED on a provider outage and sends exactly one error webhook', async () => {
    const url = receiver.url('/hook/outage');
    const job = await h.enqueue({
      job_type: 'transformer',
      parameters: { text: `${TEXT} [[fake:status=500]]`, template: 'Echo', use_cache: false },
      webhook: { url, token: 'tok' },
      max_attempts: 2,
    });
    const j = await h.settled(job.job_id);
    expect(j.status).toBe('failed');
    expect(j.error?.code).toBe('LLM_REQUEST_FAILED');
    expect(j.attempts).toBe(2);
    // 2 attempts × (1 + max_retries 1) HTTP requests
    expect(h.fake.requestsOf('openai.chat').map((r) => r.status)).toEqual([500, 500, 500, 500]);
    await until(
      () => receiver.requests.some((r) => r.url === '/hook/outage' && r.body.phase === 'error'),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const mine = receiver.requests.filter((r) => r.url === '/hook/outage');
    expect(mine.filter((r) => r.body.phase === 'error')).toHaveLength(1);
    expect(mine.filter((r) => r.body.phase === 'completed')).toHaveLength(0);
    expect(mine.at(-1)!.body).toMatchObject({
      phase: 'error',
      error: { code: 'LLM_REQUEST_FAILED' },
      process: { id: j.job_id },
    });
  });

  it('cancel aborts the HTTP request to the provider', async () => {
    const job = await h.enqueue({
      job_type: 'transformer',
      parameters: { text: `${TEXT} [[fake:delay=20000]]`, template: 'Echo', use_cache: false },
    });
    await until(() => h.fake.requestsOf('openai.chat').length === 1, 10_000);
    await h.store.cancelJob(job.job_id);
    const j = await h.settled(job.job_id);
    expect(j.status).toBe('cancelled');
    await until(() => h.fake.requestsOf('openai.chat')[0]!.aborted, 10_000);
    expect(h.fake.requestsOf('openai.chat')[0]).toMatchObject({ aborted: true, status: null });
  });
});

describe('text and chat jobs', () => {
  it('transformer_text translates with one call and skips the model when nothing is to do', async () => {
    const a = await h.settled(
      (
        await h.enqueue({
          job_type: 'transformer_text',
          parameters: {
            text: 'Guten Morgen',
            source_language: 'de',
            target_language: 'en',
            use_cache: false,
          },
        })
      ).job_id,
    );
    expect(a.status).toBe('completed');
    expect(results(a)).toMatchObject({ language: 'en', format: 'text' });
    expect(results(a).text).toMatch(/^Antwort des Fake-Modells/);
    expect(a.llm_info?.requests[0]?.purpose).toBe('translation');
    const b = await h.settled(
      (
        await h.enqueue({
          job_type: 'transformer_text',
          parameters: { text: 'Hallo', source_language: 'de', target_language: 'de' },
        })
      ).job_id,
    );
    expect(results(b).text).toBe('Hallo');
    expect(b.llm_info).toBeNull();
  });

  it('transformer_chat checks the reply against schema_json', async () => {
    const schema = {
      type: 'object',
      properties: {
        names: { type: 'array', items: { type: 'string' } },
        count: { type: 'integer' },
      },
      required: ['names', 'count'],
    };
    const ok = await h.settled(
      (
        await h.enqueue({
          job_type: 'transformer_chat',
          parameters: {
            messages: [{ role: 'user', content: 'Name two people' }],
            response_format: 'json_object',
            schema_json: schema,
            use_cache: false,
          },
        })
      ).job_id,
    );
    expect(ok.status, JSON.stringify(ok.error)).toBe('completed');
    expect(results(ok).structured_data).toMatchObject({
      names: expect.any(Array),
      count: expect.any(Number),
    });
    expect(h.fake.requestsOf('openai.chat').at(-1)!.summary).toMatchObject({
      response_format: 'json_schema',
      temperature: 0.7,
    });
  });

  it('transformer_chat fails with SCHEMA_VALIDATION_ERROR when the reply breaks the schema', async () => {
    // the fake answers the schema's first enum value; `not` makes every answer invalid
    const schema = {
      type: 'object',
      properties: { mood: { type: 'string', enum: ['calm'] } },
      required: ['mood'],
      not: { required: ['mood'] },
    };
    const j = await h.settled(
      (
        await h.enqueue({
          job_type: 'transformer_chat',
          parameters: {
            messages: [{ role: 'user', content: 'How is it?' }],
            schema_json: schema,
            use_cache: false,
          },
        })
      ).job_id,
    );
    expect(j.status).toBe('failed');
    expect(j.error?.code).toBe('SCHEMA_VALIDATION_ERROR');
    expect(h.fake.requestsOf('openai.chat')).toHaveLength(2);
    const lax = await h.settled(
      (
        await h.enqueue({
          job_type: 'transformer_chat',
          parameters: {
            messages: [{ role: 'user', content: 'How is it?' }],
            schema_json: schema,
            strict: false,
            use_cache: false,
          },
        })
      ).job_id,
    );
    expect(lax.status).toBe('completed');
    expect(results(lax).warnings.length).toBeGreaterThan(0);
  });
});
