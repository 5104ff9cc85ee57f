/**
 * The dashboard in headless Chromium against a real API + worker on a real port: the key
 * prompt, the live jobs table, a running job watched to completion (with a screenshot of its
 * panel), cancel / delete / retry / redeliver from the UI, filters, and the keyless mode.
 * Skipped with the reason when /usr/bin/chromium is missing (an error under CI).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherOptionsFromConfig } from '../../src/cli/runtime.js';
import type { JobStatus } from '../../src/core/job.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { createTestApi, silentLogger, until, type TestApi } from '../api/api-fixtures.js';
import { chromiumUnavailable, launchBrowser, pngSize, type Browser } from './browser.js';

const KEY = 'dashboard-admin-key-0123456789';
const skip = chromiumUnavailable();
if (skip) console.warn(`dashboard browser tests skipped: ${skip}`);

const listen = async (t: TestApi): Promise<string> => {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
};

describe.skipIf(!!skip)('dashboard in Chromium', () => {
  let t: TestApi;
  let base: string;
  let browser: Browser;
  let webhooks: WebhookDispatcher;
  let receiver: Server;
  let receiverUrl: string;
  const received: { event: string; jobId: string }[] = [];
  const shots = mkdtempSync(join(tmpdir(), 'secretary-dashboard-shots-'));

  const post = async (path: string, body: unknown): Promise<any> => {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return r.json();
  };
  const enqueue = async (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> =>
    (await post('/api/jobs', { job_type: 'echo', parameters, ...extra })).data.job_id;
  const statusOf = async (id: string): Promise<JobStatus | null> => (await t.store.getJob(id))?.status ?? null;

  /** A fresh page; page errors are collected so a test can assert there were none. */
  const newPage = async (): Promise<{ page: Page; errors: string[] }> => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    return { page, errors };
  };

  /** Opens the dashboard and signs in with the key. */
  const signedIn = async (hash = ''): Promise<{ page: Page; errors: string[] }> => {
    const p = await newPage();
    await p.page.goto(`${base}/${hash}`);
    await p.page.waitForSelector('#login:not([hidden])');
    await p.page.fill('#login-key', KEY);
    await p.page.click('#login-form button[type=submit]');
    await p.page.waitForSelector('#app:not([hidden])');
    await p.page.waitForSelector('#live-state.live-live');
    return p;
  };

  const confirm = async (page: Page, action: string): Promise<void> => {
    await page.click(`#job-panel [data-action="${action}"]`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('#confirm', { state: 'hidden' });
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        try {
          const json = JSON.parse(body);
          received.push({ event: String(json.phase ?? json.status ?? ''), jobId: String(json.job?.id ?? '') });
        } catch {
          received.push({ event: 'unparsable', jobId: '' });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    t = await createTestApi({
      worker: true,
      keys: [{ key: KEY }],
      config: { security: { allow_private_urls: true } },
      // a job type whose results name artifacts the way the pdf handler's do
      register: (r) =>
        r.register({
          type: 'artifacts',
          parameters: Type.Object({}, { additionalProperties: true }),
          handler: async () => ({
            archive_path: 'dash/images.zip',
            archive_filename: 'dash-images.zip',
            text_contents: ['/api/pdf/text-content/cache/dash/page_001.txt'],
          }),
        }),
    });
    mkdirSync(join(t.config.paths.cache_dir, 'dash'), { recursive: true });
    writeFileSync(join(t.config.paths.cache_dir, 'dash', 'images.zip'), zipSync({ 'image_001.txt': new TextEncoder().encode('pixels') }));
    writeFileSync(join(t.config.paths.cache_dir, 'dash', 'page_001.txt'), 'Seite eins: Text aus dem Cache.');
    webhooks = new WebhookDispatcher(t.store, t.registry, dispatcherOptionsFromConfig(t.config), silentLogger);
    webhooks.start();
    base = await listen(t);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await webhooks?.stop(1000);
    await t?.close();
    await new Promise((r) => receiver?.close(r));
    rmSync(shots, { recursive: true, force: true });
  });

  it('asks for the key, rejects a bad one with what to do, then lists the jobs', async () => {
    const ids = [await enqueue({ message: 'first' }), await enqueue({ message: 'second' }, { external_id: 'ext-listed-2' })];
    await until(async () => (await statusOf(ids[1]!)) === 'completed', 5000);
    const { page, errors } = await newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isHidden('#app')).toBe(true);
    await page.fill('#login-key', 'not-the-key');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toMatch(/refused \(401\)/);
    expect(await page.textContent('#login-error')).toContain('Enter a valid API key');
    expect(await page.isHidden('#app')).toBe(true);
    await page.fill('#login-key', KEY);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    for (const id of ids) await page.waitForSelector(`tr[data-job-id="${id}"][data-status="completed"]`);
    expect(await page.textContent(`tr[data-job-id="${ids[1]}"]`)).toContain('ext-listed-2');
    // the header shows the queue and the worker of this process
    await expect.poll(() => page.textContent('#worker-health')).toMatch(/worker: \d+\/\d+ running/);
    expect(await page.locator('#chart-throughput svg rect.bar-completed').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a new job live, then watches it run to completed (screenshot of the panel)', async () => {
    const { page, errors } = await signedIn();
    const id = await enqueue({ message: 'watched by the dashboard', sleep_ms: 4000, steps: 8 });
    const row = `tr[data-job-id="${id}"]`;
    await page.waitForSelector(row, { timeout: 5000 });
    await page.click(row);
    await page.waitForSelector('#job-panel[data-status="processing"]');
    const seen: number[] = [];
    while ((await page.getAttribute('#job-panel', 'data-status')) === 'processing') {
      const v = Number(await page.getAttribute('#job-panel .panel-progress [role=progressbar]', 'aria-valuenow'));
      if (seen[seen.length - 1] !== v) seen.push(v);
      await page.waitForTimeout(100);
    }
    const moving = seen.filter((v) => v > 0 && v < 100);
    expect(moving.length, `progress values seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(3);
    expect(moving).toEqual([...moving].sort((a, b) => a - b));
    await page.waitForSelector('#job-panel[data-status="completed"] .panel-results pre.json');
    await expect.poll(() => page.textContent('#job-panel .panel-results')).toContain('watched by the dashboard');
    expect(await page.getAttribute('#job-panel .panel-progress [role=progressbar]', 'aria-valuenow')).toBe('100');
    expect(await page.textContent('#job-panel .panel-logs')).toContain('echo finished after 8 steps');
    await page.waitForSelector(`${row}[data-status="completed"]`);
    expect(await statusOf(id)).toBe('completed');
    const file = join(shots, 'job-panel-completed.png');
    await page.locator('#job-panel').screenshot({ path: file });
    const png = readFileSync(file);
    const size = pngSize(png);
    expect(size.width).toBeGreaterThan(300);
    expect(size.height).toBeGreaterThan(300);
    expect(png.length).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('cancels a running job from the UI (after a declined confirmation), then deletes it', async () => {
    const id = await enqueue({ sleep_ms: 30_000, steps: 30 });
    await until(async () => (await statusOf(id)) === 'processing', 5000);
    const { page, errors } = await signedIn(`#job=${id}`);
    await page.waitForSelector('#job-panel[data-status="processing"] [data-action="cancel"]');
    // declining changes nothing
    await page.click('#job-panel [data-action="cancel"]');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-cancel');
    await page.waitForTimeout(300);
    expect(await statusOf(id)).toBe('processing');
    await confirm(page, 'cancel');
    await page.waitForSelector('#job-panel .result-ok');
    expect(await page.textContent('#job-panel .result-ok')).toContain('Cancelled');
    expect(await statusOf(id)).toBe('cancelled');
    expect((await t.store.getJob(id))?.error?.code).toBe('CANCELLED');
    await until(() => !t.worker!.runningJobIds().includes(id), 5000); // the handler was aborted
    await page.waitForSelector('#job-panel[data-status="cancelled"]');
    await page.waitForSelector(`tr[data-job-id="${id}"][data-status="cancelled"]`);
    await confirm(page, 'delete');
    await page.waitForSelector('#job-panel', { state: 'hidden' });
    expect(await t.store.getJob(id)).toBeNull();
    await page.waitForSelector(`tr[data-job-id="${id}"]`, { state: 'detached' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('redelivers a webhook and retries a failed job from the UI', async () => {
    const id = await enqueue({ fail_with: 'unrecoverable' }, { webhook: { url: receiverUrl, token: 'hook-secret' } });
    await until(async () => (await statusOf(id)) === 'failed', 5000);
    await until(() => received.some((r) => r.jobId === id), 5000);
    const terminalBefore = received.filter((r) => r.jobId === id).length;
    const { page, errors } = await signedIn(`#job=${id}`);
    await page.waitForSelector('#job-panel[data-status="failed"]');
    expect(await page.textContent('#job-panel .panel-error')).toContain('echo asked to fail');
    await page.waitForSelector('#job-panel .panel-webhook tr.outcome-delivered');
    expect(await page.textContent('#job-panel .panel-webhook')).not.toContain('hook-secret');
    await confirm(page, 'redeliver');
    await page.waitForSelector('#job-panel .result-ok');
    await until(() => received.filter((r) => r.jobId === id).length > terminalBefore, 5000);
    const statuses: JobStatus[] = [];
    const stop = t.store.subscribe((e) => {
      if (e.type === 'job' && e.change.job_id === id) statuses.push(e.change.status);
    });
    try {
      await confirm(page, 'retry');
      await page.waitForSelector('#job-panel .result-ok');
      expect(await page.textContent('#job-panel .result-ok')).toContain('Queued again');
      await until(() => statuses.includes('pending') && statuses[statuses.length - 1] === 'failed', 5000);
      await page.waitForSelector('#job-panel[data-status="failed"]');
    } finally {
      stop();
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('downloads the archive with the key and opens text files from the results', async () => {
    const id = (await post('/api/jobs', { job_type: 'artifacts', parameters: {} })).data.job_id as string;
    await until(async () => (await statusOf(id)) === 'completed', 5000);
    const { page, errors } = await signedIn(`#job=${id}`);
    await page.waitForSelector('#job-panel[data-status="completed"] .panel-artifacts ul.artifacts');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#job-panel .panel-artifacts ul.artifacts button')]);
    expect(download.suggestedFilename()).toBe('dash-images.zip');
    const saved = readFileSync(await download.path());
    expect(new TextDecoder().decode(unzipSync(saved)['image_001.txt'])).toBe('pixels');
    await page.waitForSelector('.toast-ok');
    await page.click('#job-panel .text-files button');
    await expect.poll(() => page.textContent('#job-panel .text-files')).toContain('Seite eins: Text aus dem Cache.');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters by status and finds a job by id and by external id', async () => {
    const failed = await enqueue({ fail_with: 'unrecoverable' });
    const ok = await enqueue({ message: 'findable' }, { external_id: 'ext-findable-7' });
    await until(async () => (await statusOf(failed)) === 'failed' && (await statusOf(ok)) === 'completed', 5000);
    const { page, errors } = await signedIn();
    await page.waitForSelector(`tr[data-job-id="${ok}"]`);
    await page.selectOption('#f-status', 'failed');
    await page.waitForSelector(`tr[data-job-id="${ok}"]`, { state: 'detached' });
    await page.waitForSelector(`tr[data-job-id="${failed}"]`);
    const rows = page.locator('tr.job-row');
    const shown = await Promise.all(Array.from({ length: await rows.count() }, (_, i) => rows.nth(i).getAttribute('data-status')));
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set(['failed']));
    await page.click('#f-clear');
    await page.fill('#f-search', ok);
    await page.press('#f-search', 'Enter');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-job-id')).toBe(ok);
    await page.fill('#f-search', 'ext-findable-7');
    await page.press('#f-search', 'Enter');
    await page.waitForSelector(`tr[data-job-id="${ok}"]`);
    await expect.poll(() => rows.count()).toBe(1);
    await page.fill('#f-search', 'job-does-not-exist');
    await page.press('#f-search', 'Enter');
    await expect.poll(() => page.textContent('#jobs-table tbody')).toContain('No job with the id');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('catches up after a flood (a batch of 300 jobs): table, header and batch counters', async () => {
    const { page, errors } = await signedIn();
    const { batch_id, job_ids } = (await post('/api/batches', { batch_name: 'flood', jobs: Array.from({ length: 300 }, (_, i) => ({ job_type: 'echo', parameters: { message: `f${i}` } })) })).data;
    await until(async () => (await t.store.getBatch(batch_id))?.status === 'completed', 15_000);
    // the newest job of the batch shows up completed without a reload
    await page.waitForSelector(`tr[data-job-id="${job_ids[299]}"][data-status="completed"]`);
    await expect.poll(() => page.textContent('#q-pending'), { timeout: 10_000 }).toBe('0');
    await page.click('.tabs button[data-tab="batches"]');
    const row = page.locator(`tr[data-batch-id="${batch_id}"]`);
    await expect.poll(() => row.textContent()).toContain('flood');
    expect(await row.locator('.badge').textContent()).toBe('completed');
    expect(await row.locator('td.num').allTextContents()).toEqual(['300', '0', '0', '300', '0', '0']);
    // a click shows the batch's jobs
    await row.click();
    await expect.poll(() => page.inputValue('#f-batch')).toBe(batch_id);
    await expect.poll(() => page.locator('tr.job-row').count()).toBe(50);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens without a key prompt when the server has no keys (loopback mode)', async () => {
    const open = await createTestApi({ worker: true });
    try {
      const url = await listen(open);
      const id = ((await (await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job_type: 'echo' }) })).json()) as any).data.job_id as string;
      const { page, errors } = await newPage();
      await page.goto(`${url}/`);
      await page.waitForSelector(`tr[data-job-id="${id}"]`);
      expect(await page.isHidden('#login')).toBe(true);
      expect(await page.isHidden('#signout')).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await open.close();
    }
  });
});
