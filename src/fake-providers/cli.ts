/**
 * `npm run fake-providers -- --port 8089 [--latency-ms 300 | 1000-3000] [--require-key k]`:
 * starts the local fake of the OpenAI and Mistral APIs and prints the environment that points
 * Secretary at it; then one line per request.
 */
import { parseArgs } from 'node:util';
import { startFakeProviders } from './fake-server.js';
import type { Latency } from './types.js';

const usage = `usage: npm run fake-providers -- [--port 8089] [--host 127.0.0.1] [--latency-ms 300|1000-3000] [--require-key KEY]`;

const parseLatency = (raw: string | undefined): Latency => {
  if (!raw) return 0;
  const m = /^(\d+)(?:-(\d+))?$/.exec(raw);
  if (!m) throw new Error(`--latency-ms must be a number or a range like 1000-3000, got ${raw}`);
  return m[2] ? [Number(m[1]), Number(m[2])] : Number(m[1]);
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8089' },
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string' },
      'require-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got ${values.port}`);
  const fake = await startFakeProviders({
    port,
    host: values.host,
    latencyMs: parseLatency(values['latency-ms']),
    requireKey: values['require-key'] ?? null,
  });
  console.log(`fake model providers listening on ${fake.url}`);
  console.log(`  OpenAI-compatible: ${fake.openaiBaseUrl}   Mistral: ${fake.mistralBaseUrl}`);
  console.log('\nPoint Secretary at it (in the shell that runs `npm start`):\n');
  for (const [k, v] of Object.entries(fake.env)) console.log(`export ${k}=${v}`);
  console.log(
    '\nControl: GET /_fake/requests, POST /_fake/faults {"route":"openai.chat","faults":[{"status":500}]}, POST /_fake/reset\n',
  );
  let shown = 0;
  const timer = setInterval(() => {
    for (const e of fake.requests) {
      if (e.seq <= shown) continue;
      if (e.durationMs === null) break;
      console.log(
        `${e.startedAt} ${e.route} ${e.aborted ? 'aborted' : e.status} ${e.durationMs} ms ${JSON.stringify(e.summary)}`,
      );
      shown = e.seq;
    }
  }, 250);
  const stop = (): void => {
    clearInterval(timer);
    void fake.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

main().catch((err: unknown) => {
  console.error(`fake-providers: ${(err as Error).message}\n${usage}`);
  process.exit(1);
});
