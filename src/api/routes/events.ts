/**
 * `GET /api/events`: Server-Sent Events of every job and batch change the caller may read
 * (the dashboard's live view). Events:
 * - `ready` once at connect (`{at}`): a client that reconnects reloads what it shows, since
 *   changes in between are not replayed (no `Last-Event-ID` here).
 * - `job`: `{job_id, job_type, status, progress, batch_id, version, updated_at}`; the latest
 *   change of a job per `coalesce_ms` window (a burst of progress reports becomes one event).
 *   A job event with a `batch_id` means that batch's counters may have changed.
 * - `batch`: `{batch_id, status}` when a batch's status changes.
 * - `resync`: `{changes}` instead of the job events of one window when more than
 *   `RESYNC_OVER` jobs changed in it (a flood, e.g. a batch of thousands draining): the
 *   client reloads what it shows. Bounds the stream and the browser's work under any load.
 *   `coalesce_ms=0` turns coalescing and `resync` off (every change is sent).
 * Heartbeat comments every `server.sse_heartbeat_sec`. User keys see their own jobs and those
 * their `access_control` opens to them, like the list routes; admin keys see everything.
 * Browsers authenticate with `?access_token=` (EventSource cannot send headers).
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { canRead } from '../access.js';
import type { Principal, RouteOptions } from '../api-deps.js';
import { ChangeFeed, type FeedChange, type FeedJobChange } from '../change-feed.js';

const EventsQuery = Type.Object({
  access_token: Type.Optional(Type.String({ maxLength: 4096, description: 'API key for browsers (EventSource cannot send headers).' })),
  coalesce_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000, description: 'Window in which changes of one job are merged into its latest. Default 250.' })),
});

/** More changed jobs than this in one coalescing window are sent as one `resync` event. */
export const RESYNC_OVER = 100;

/** Per-connection memory of read decisions (access control never changes after creation). */
const MAX_DECISIONS = 5000;

/** Decides, per job or batch, whether a non-admin caller may read it; cached. */
const accessChecker = (opts: RouteOptions, principal: Principal) => {
  const { store } = opts.deps;
  const decisions = new Map<string, boolean>();
  const remember = (id: string, ok: boolean): boolean => {
    if (decisions.size >= MAX_DECISIONS) decisions.delete(decisions.keys().next().value as string);
    decisions.set(id, ok);
    return ok;
  };
  return async (c: FeedChange): Promise<boolean> => {
    if (principal.admin) return true;
    if (c.kind === 'job' && c.user_id !== null && c.user_id === principal.user_id) return true;
    const id = c.kind === 'job' ? c.job_id : c.batch_id;
    const known = decisions.get(id);
    if (known !== undefined) return known;
    const owned = c.kind === 'job' ? await store.getJob(id) : await store.getBatch(id);
    return owned ? remember(id, canRead(principal, owned)) : false;
  };
};

const jobData = (c: FeedJobChange) => ({
  job_id: c.job_id,
  job_type: c.job_type,
  status: c.status,
  progress: c.progress,
  batch_id: c.batch_id,
  version: c.version,
  updated_at: c.updated_at,
});

export const eventRoutes = async (root: FastifyInstance, opts: RouteOptions): Promise<void> => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const heartbeatMs = opts.deps.config.server.sse_heartbeat_sec * 1000;
  const feed = new ChangeFeed(opts.deps.store, { onError: (err, what) => app.log.warn({ err }, `${what} failed`) });
  app.addHook('onClose', async () => feed.close());

  app.get(
    '/api/events',
    { schema: { tags: ['streams'], summary: 'Server-Sent Events of all job and batch changes the caller may read', querystring: EventsQuery } },
    async (req, reply) => {
      const coalesceMs = req.query.coalesce_ms ?? 250;
      const mayRead = accessChecker(opts, req.principal);
      const stream = app.sse.open(req, reply, { heartbeatMs });
      const pendingJobs = new Map<string, FeedJobChange>();
      let flushTimer: NodeJS.Timeout | null = null;
      const flush = (): void => {
        flushTimer = null;
        if (pendingJobs.size > RESYNC_OVER) stream.send('resync', { changes: pendingJobs.size });
        else for (const c of pendingJobs.values()) stream.send('job', jobData(c));
        pendingJobs.clear();
      };
      const deliver = (c: FeedChange): void => {
        if (stream.closed) return;
        if (c.kind === 'batch') {
          stream.send('batch', { batch_id: c.batch_id, status: c.status });
          return;
        }
        if (coalesceMs === 0) {
          stream.send('job', jobData(c));
          return;
        }
        const before = pendingJobs.get(c.job_id);
        if (!before || before.version < c.version) pendingJobs.set(c.job_id, c);
        flushTimer ??= setTimeout(flush, coalesceMs);
      };
      // changes pass through one chain, so an access lookup never reorders a job's events
      let chain: Promise<void> = Promise.resolve();
      const stop = feed.listen((c) => {
        if (req.principal.admin) return deliver(c);
        chain = chain
          .then(async () => {
            if (!stream.closed && (await mayRead(c))) deliver(c);
          })
          .catch((err: unknown) => req.log.warn({ err }, 'event access check failed'));
      });
      stream.onClose(() => {
        stop();
        if (flushTimer) clearTimeout(flushTimer);
      });
      stream.send('ready', { at: new Date().toISOString() });
      return reply;
    },
  );
};
