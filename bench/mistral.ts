/**
 * The real client's default path under load: N simultaneous `POST /api/pdf/process-mistral-ocr`
 * submissions (the client's fields: OCR images, previews and 200-DPI pages, useCache=false,
 * callback URL and token, both auth headers) of a generated 10-page PDF with an image on every
 * page, to a real `secretary serve` process whose Mistral provider is the fake API in another
 * process, answering in 1–3 s. A loopback receiver in this process acts like the client: it
 * downloads every artifact while it holds the `completed` callback open.
 *
 *   npm run bench:mistral [-- --jobs 200] [--quick] [--warm 100]
 *
 * The measured burst goes to a warm server, as a running service is: before it, `--warm`
 * submissions of the same kind (default 100, as one burst) run to their terminal callbacks, so
 * the V8 JIT has compiled the ingress path. `--warm 0` measures the first burst after the
 * process started instead (every function still interpreted: ~2x the CPU per upload).
 *
 * Prints one JSON line: ACK p50/p99, `GET /api/jobs/{id}` p50/p99 while the jobs run, the
 * server's peak RSS (VmHWM), callbacks (exactly one terminal per job), artifact downloads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { numberedPdf } from '../test/processors/helpers/mistral-docs.js';
import { emit, note } from './lib/bench-util.js';
import { cpuMs, freePort, multipart, pctl, postBody, vmHwmMb } from './lib/pdf-overload.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    quick: { type: 'boolean' },
    pages: { type: 'string' },
    warm: { type: 'string' },
  },
});
const JOBS = Number(values.jobs ?? (values.quick ? 50 : 200));
const PAGES = Number(values.pages ?? 10);
const WARM = Number(values.warm ?? (values.quick ? 20 : 100));
const KEY = 'bench-key';
const auth = { authorization: `Bearer ${KEY}`, 'x-secretary-api-key': KEY };
const root = path.resolve(import.meta.dirname, '..');

const waitHttp = async (url: string, what: string): Promise<void> => {
  for (let i = 0; i < 600; i++) {
    if (
      await fetch(url).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start at ${url}; run it by hand to see why`);
};

const stop = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
};

interface JobSeen {
  progress: number;
  completed: number;
  errors: number;
  tokenMismatch: number;
}

const main = async (): Promise<void> => {
  const home = await mkdtemp(path.join(tmpdir(), 'secretary-bench-mistral-'));
  const [fakePort, port] = [await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const seen = new Map<string, JobSeen>();
  const tokens = new Map<string, string>();
  let artifactOk = 0;
  let artifactFailed = 0;
  const base = `http://127.0.0.1:${port}`;
  const ocrRequests = async (): Promise<number> => {
    const log = (await fetch(`http://127.0.0.1:${fakePort}/_fake/requests`).then((r) =>
      r.json(),
    )) as { requests: Array<{ route: string }> };
    return log.requests.filter((r) => r.route === 'mistral.ocr').length;
  };

  // the client's synchronous receiver: downloads the artifacts before answering `completed`
  const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any>;
        const id = String(body.process?.id);
        const s = seen.get(id) ?? { progress: 0, completed: 0, errors: 0, tokenMismatch: 0 };
        seen.set(id, s);
        const clientJob = (req.url ?? '').split('/').pop() ?? '';
        if (req.headers['x-callback-token'] !== tokens.get(clientJob)) s.tokenMismatch++;
        if (body.phase === 'completed') {
          s.completed++;
          const d = body.data as Record<string, string>;
          const urls = [
            d.pages_archive_url,
            d.mistral_ocr_images_url,
            `/api/pdf/jobs/${id}/mistral-ocr-raw`,
          ];
          await Promise.all(
            urls.map(async (u) => {
              const r = await fetch(u?.startsWith('/') ? `${base}${u}` : String(u), {
                headers: auth,
              }).catch(() => null);
              if (r?.status === 200) {
                await r.arrayBuffer();
                artifactOk++;
              } else artifactFailed++;
            }),
          );
        } else if (body.phase === 'error') s.errors++;
        else s.progress++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      })();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  try {
    note(`starting the fake Mistral API (1–3 s per answer) on port ${fakePort}`);
    const fake = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(root, 'src/fake-providers/cli.ts'),
        '--port',
        String(fakePort),
        '--latency-ms',
        '1000-3000',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    children.push(fake);
    await waitHttp(`http://127.0.0.1:${fakePort}/_fake/requests`, 'the fake providers');
    note(`starting secretary serve on port ${port}`);
    const server = spawn(
      process.execPath,
      [path.join(root, 'bin/secretary.js'), 'serve', '--home', home, '--port', String(port)],
      {
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          SECRETARY_SERVICE_API_KEY: KEY,
          SECRETARY_ALLOW_PRIVATE_URLS: 'true',
          MISTRAL_BASE_URL: `http://127.0.0.1:${fakePort}/mistral/v1`,
          OPENAI_BASE_URL: `http://127.0.0.1:${fakePort}/openai/v1`,
          // I/O-bound jobs: many wait on the provider at once
          SECRETARY__GENERIC_WORKER__MAX_CONCURRENT: '16',
          SECRETARY__LLM__PROVIDERS__MISTRAL__MAX_CONCURRENT: '16',
          // as the Dockerfile runs the service: fewer glibc malloc arenas, ~100 MB less RSS
          MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    children.push(server);
    await waitHttp(`${base}/api/health/live`, 'secretary serve');

    note(`generating a ${PAGES}-page PDF with an image on every page`);
    const pdf = await numberedPdf(PAGES, () => ({ images: ['jpeg'] }));
    const bodiesFor = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => {
        const clientJob = `${prefix}-${i}`;
        const token = `token-${prefix}-${i}-${Math.random().toString(16).slice(2)}`;
        tokens.set(clientJob, token);
        return multipart(pdf, `doc-${i}.pdf`, {
          includeOCRImages: 'true',
          includePreviewPages: 'true',
          includeHighResPages: 'true',
          useCache: 'false',
          callback_url: `${receiverUrl}/api/external/jobs/${clientJob}`,
          callback_token: token,
        });
      });
    const submit = (b: { body: Buffer; type: string }) =>
      postBody(`${base}/api/pdf/process-mistral-ocr`, b.body, {
        ...auth,
        'x-worker': 'true',
        'content-type': b.type,
      });
    const terminalOf = (list: string[]) =>
      list.filter((id) => (seen.get(id)?.completed ?? 0) + (seen.get(id)?.errors ?? 0) > 0).length;
    // the first request of a fresh process loads modules
    const warm = multipart(pdf, 'warm.pdf', {
      useCache: 'false',
      includeHighResPages: 'false',
      wait_ms: '120000',
    });
    await fetch(`${base}/api/pdf/process-mistral-ocr`, {
      method: 'POST',
      body: warm.body,
      headers: { ...auth, 'content-type': warm.type },
    }).then((r) => r.arrayBuffer());
    if (WARM > 0) {
      note(`warming the server: ${WARM} submissions at once, run to their callbacks`);
      const warmIds = (await Promise.all(bodiesFor(WARM, 'warm').map(submit))).map(
        (r) => (JSON.parse(r.body) as { job?: { id: string } }).job?.id ?? '',
      );
      const until = Date.now() + 600_000;
      while (terminalOf(warmIds) < WARM && Date.now() < until)
        await new Promise((r) => setTimeout(r, 500));
      if (terminalOf(warmIds) < WARM) throw new Error('the warm-up jobs did not finish in 10 min');
      seen.clear();
      artifactOk = 0;
      artifactFailed = 0;
      await new Promise((r) => setTimeout(r, 2000)); // webhooks and downloads settle
    }
    const ocrBefore = await ocrRequests();
    const bodies = bodiesFor(JOBS, 'client');

    const ids: string[] = [];
    const acks: number[] = [];
    /** ACKs by connection: kept alive from the warm-up, or opened for this submission. */
    const byConnection = { reused: [] as number[], opened: [] as number[] };
    const apiLat: number[] = [];
    let polling = true;
    const pollers = Array.from({ length: 4 }, async () => {
      while (polling) {
        const id = ids[Math.floor(Math.random() * ids.length)];
        if (id) {
          const t0 = performance.now();
          await fetch(`${base}/api/jobs/${id}`, { headers: auth }).then((r) => r.arrayBuffer());
          apiLat.push(performance.now() - t0);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    let lagMax = 0;
    const lagWatcher = (async () => {
      while (polling) {
        const m = await fetch(`${base}/metrics`, { headers: auth })
          .then((x) => x.text())
          .catch(() => '');
        const lag = /^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(m);
        if (lag) lagMax = Math.max(lagMax, Number(lag[1]));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    note(`submitting ${JOBS} PDFs at once`);
    const cpu0 = cpuMs(server.pid!);
    const t0 = performance.now();
    await Promise.all(
      bodies.map(async (b) => {
        const s = performance.now();
        const res = await submit(b);
        acks.push(performance.now() - s);
        byConnection[res.reusedSocket ? 'reused' : 'opened'].push(performance.now() - s);
        const body = JSON.parse(res.body) as { job?: { id: string } };
        if (res.status === 202 && body.job?.id) ids.push(body.job.id);
      }),
    );
    const burstCpuMs = cpuMs(server.pid!) - cpu0;
    note(`${ids.length} accepted; waiting for their terminal callbacks`);
    const terminal = () => terminalOf(ids);
    const deadline = Date.now() + 1_800_000;
    let last = -1;
    while (terminal() < ids.length && Date.now() < deadline) {
      if (terminal() !== last) {
        last = terminal();
        note(`${last}/${ids.length} done`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000)); // anything after a terminal callback would arrive now
    polling = false;
    await Promise.all([...pollers, lagWatcher]);
    const all = ids.map(
      (id) => seen.get(id) ?? { progress: 0, completed: 0, errors: 0, tokenMismatch: 0 },
    );
    emit({
      bench: 'mistral',
      jobs: JOBS,
      warmup_jobs: WARM,
      pages_per_job: PAGES,
      accepted: ids.length,
      ack_p50_ms: Math.round(pctl(acks, 50)),
      ack_p90_ms: Math.round(pctl(acks, 90)),
      ack_p99_ms: Math.round(pctl(acks, 99)),
      ack_max_ms: Math.round(Math.max(...acks)),
      ack_p99_reused_connection_ms: Math.round(pctl(byConnection.reused, 99)),
      ack_p99_new_connection_ms: Math.round(pctl(byConnection.opened, 99)),
      new_connections: byConnection.opened.length,
      // the server's CPU (all threads) while the burst was acknowledged, per submission
      burst_cpu_ms_per_upload: Math.round((burstCpuMs / JOBS) * 100) / 100,
      api_p50_ms: Math.round(pctl(apiLat, 50) * 10) / 10,
      api_p99_ms: Math.round(pctl(apiLat, 99) * 10) / 10,
      api_requests: apiLat.length,
      peak_rss_mb: vmHwmMb(server.pid!),
      event_loop_lag_max_ms: Math.round(lagMax * 1000),
      completed_callbacks: all.reduce((n, s) => n + s.completed, 0),
      error_callbacks: all.reduce((n, s) => n + s.errors, 0),
      jobs_with_more_than_one_terminal: all.filter((s) => s.completed + s.errors > 1).length,
      progress_callbacks: all.reduce((n, s) => n + s.progress, 0),
      token_mismatches: all.reduce((n, s) => n + s.tokenMismatch, 0),
      lost: ids.length - terminal() + (JOBS - ids.length),
      artifacts_ok: artifactOk,
      artifacts_failed: artifactFailed,
      ocr_requests: (await ocrRequests()) - ocrBefore,
      wall_s: Math.round(seconds),
    });
  } finally {
    for (const c of children.reverse()) await stop(c);
    receiver.closeAllConnections();
    receiver.close();
    await rm(home, { recursive: true, force: true });
  }
};

await main();
