/**
 * Overload: N PDF jobs submitted at once over HTTP to a real `secretary serve` process
 * (child process, embedded store, default `max_concurrent`). Measures the ACK latency, the API
 * latency of `GET /api/jobs/{id}` while the jobs run, the server's peak RSS (VmHWM), the peak
 * number of jobs processing at once, and that every job completes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { emit, note } from './bench-util.js';

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

export const pctl = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

export const vmHwmMb = (pid: number): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};

/** CPU time (user + system, all threads) of a process so far, in ms (10 ms resolution). */
export const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};

/** A distinct small PDF per job (distinct content: no cache hits). */
const makePdf = async (i: number, pages: number): Promise<Uint8Array> => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= pages; p++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`Dokument ${i}, Seite ${p}: Grüße aus Südtirol.`, { x: 60, y: 760, size: 14, font });
    for (let l = 0; l < 30; l++) page.drawText(`Zeile ${l} mit etwas Text über Bergwiesen und Äpfel.`, { x: 60, y: 720 - l * 20, size: 11, font });
  }
  return doc.save();
};

/**
 * The load generator's POST: plain `node:http` with a keep-alive agent and no socket limit.
 * It shares the host's cores with the server, so it must be lean: `fetch` (undici) spent
 * 0.6–1.3 ms of CPU per upload here, about as much as the server's whole ingress.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
export const postBody = (
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; reusedSocket: boolean }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

/** A pre-encoded multipart body, so the client spends no CPU encoding while it measures. */
export const multipart = (bytes: Uint8Array, name: string, fields: Record<string, string>): { body: Buffer; type: string } => {
  const boundary = `----secretary${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n`));
  parts.push(Buffer.from(bytes), Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
};

export const benchOverload = async (jobs: number, pages: number): Promise<void> => {
  const home = await mkdtemp(path.join(tmpdir(), 'secretary-overload-'));
  const port = await freePort();
  const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'secretary.js');
  const server = spawn(process.execPath, [bin, 'serve', '--home', home, '--port', String(port)], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`${base}/api/health/live`).then((r) => r.ok).catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    note(`overload: generating ${jobs} PDFs of ${pages} pages`);
    const fields = { extraction_method: 'native', includeImages: 'false' };
    const docs = await Promise.all(Array.from({ length: jobs }, async (_, i) => multipart(await makePdf(i, pages), `doc-${i}.pdf`, fields)));
    // warm-up: the first requests of a fresh process load modules; not part of the measurement
    for (let i = 0; i < 3; i++) {
      const w = multipart(await makePdf(-1 - i, 1), 'warm.pdf', { ...fields, wait_ms: '60000' });
      await fetch(`${base}/api/pdf/process`, { method: 'POST', body: w.body, headers: { 'content-type': w.type } }).then((r) => r.arrayBuffer());
    }
    const warmed = 3;
    const ids: string[] = [];
    const acks: number[] = [];
    let stop = false;
    const apiLat: number[] = [];
    let peak = 0;
    const pollers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const id = ids[Math.floor(Math.random() * ids.length)];
        if (!id) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const t0 = performance.now();
        await fetch(`${base}/api/jobs/${id}`).then((r) => r.arrayBuffer());
        apiLat.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    let lagMax = 0;
    const watcher = (async () => {
      while (!stop) {
        const m = await fetch(`${base}/metrics`).then((x) => x.text()).catch(() => '');
        const lag = /^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(m);
        if (lag) lagMax = Math.max(lagMax, Number(lag[1]));
        peak = Math.max(peak, Number(/^secretary_jobs\{status="processing",job_type="pdf"\} (\d+)/m.exec(m)?.[1] ?? 0));
        await new Promise((r2) => setTimeout(r2, 200));
      }
    })();
    note(`overload: submitting ${jobs} PDFs at once`);
    await Promise.all(
      docs.map(async (doc) => {
        const t0 = performance.now();
        const res = await postBody(`${base}/api/pdf/process`, doc.body, { 'content-type': doc.type });
        acks.push(performance.now() - t0);
        const body = JSON.parse(res.body) as { job?: { id: string } };
        if (body.job?.id) ids.push(body.job.id);
      }),
    );
    note(`overload: ${ids.length} accepted, waiting for completion`);
    // completion is read from the /metrics gauges (a cheap GROUP BY), not by listing jobs:
    // a list of 1,000 jobs every few hundred ms would itself load the server being measured
    const countOf = (m: string, status: string): number =>
      Number(new RegExp(`^secretary_jobs\\{status="${status}",job_type="pdf"\\} (\\d+)`, 'm').exec(m)?.[1] ?? 0);
    let completed = 0;
    let failed = 0;
    const deadline = Date.now() + 600_000;
    for (;;) {
      const m = await fetch(`${base}/metrics`).then((r) => r.text());
      completed = countOf(m, 'completed');
      failed = countOf(m, 'failed');
      if (completed + failed >= ids.length + warmed || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    stop = true;
    await Promise.all([...pollers, watcher]);
    emit({
      bench: 'overload',
      jobs,
      pages_per_job: pages,
      accepted: ids.length,
      ack_p50_ms: Math.round(pctl(acks, 50)),
      ack_p99_ms: Math.round(pctl(acks, 99)),
      api_p50_ms: Math.round(pctl(apiLat, 50) * 10) / 10,
      api_p99_ms: Math.round(pctl(apiLat, 99) * 10) / 10,
      api_requests: apiLat.length,
      peak_rss_mb: vmHwmMb(server.pid!),
      peak_concurrent: peak,
      event_loop_lag_max_ms: Math.round(lagMax * 1000),
      completed: completed - warmed,
      failed,
      lost: jobs - (completed - warmed) - failed,
    });
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await rm(home, { recursive: true, force: true });
  }
};
