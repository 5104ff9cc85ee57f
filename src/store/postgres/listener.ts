/**
 * The LISTEN side of cross-process events: one dedicated connection (never from the pool, and
 * possibly to a different URL: a transaction-mode pooler drops LISTEN), reconnected with
 * exponential backoff when it drops. While it is down, notifications are lost; the worker's
 * poll and the SSE version checks cover the gap, so a missing listener never stops work.
 */
import pg from 'pg';
import type { Notification } from 'pg';
import { quoteIdent } from './pg-names.js';

export interface ListenerOptions {
  url: string;
  channel: string;
  applicationName: string;
  onNotification: (payload: string) => void;
  /** Called after every (re)connect: notifications may have been missed while down. */
  onConnect?: (reconnect: boolean) => void;
  /** Told about connection problems (the store stays quiet; a caller may log them). */
  onError?: (err: Error) => void;
  /** First and largest reconnect delay. Defaults 100 ms and 5 s. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A `SELECT 1` every so often finds a silently dead connection. Default 30 s; 0 disables. */
  healthCheckMs?: number;
}

export class NotificationListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private failures = 0;
  private everConnected = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;

  constructor(private readonly opts: ListenerOptions) {}

  /** Whether LISTEN is active right now. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** Backend pid of the listening connection (for tests and diagnostics). */
  get pid(): number | null {
    return (this.client as (pg.Client & { processID?: number }) | null)?.processID ?? null;
  }

  /** Connects once; on failure keeps retrying in the background. Never rejects. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.retryTimer = null;
    this.healthTimer = null;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.opts.url,
      application_name: this.opts.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    let dropped = false;
    const drop = (err?: Error): void => {
      if (dropped) return;
      dropped = true;
      if (err) this.opts.onError?.(err);
      if (this.client === client) this.client = null;
      if (this.healthTimer) clearInterval(this.healthTimer);
      this.healthTimer = null;
      client.end().catch(() => undefined);
      this.scheduleRetry();
    };
    client.on('error', (err: Error) => drop(err));
    client.on('end', () => drop());
    client.on('notification', (msg: Notification) => {
      if (msg.channel === this.opts.channel && msg.payload !== undefined)
        this.opts.onNotification(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.opts.channel)}`);
    } catch (err) {
      drop(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.stopped || dropped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.startHealthCheck(client, drop);
    this.opts.onConnect?.(reconnect);
  }

  private startHealthCheck(client: pg.Client, drop: (err?: Error) => void): void {
    const every = this.opts.healthCheckMs ?? 30_000;
    if (every <= 0) return;
    this.healthTimer = setInterval(() => {
      client
        .query('SELECT 1')
        .catch((err: unknown) => drop(err instanceof Error ? err : new Error(String(err))));
    }, every);
    this.healthTimer.unref();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const min = this.opts.minDelayMs ?? 100;
    const max = this.opts.maxDelayMs ?? 5_000;
    const base = Math.min(max, min * 2 ** Math.min(this.failures, 16));
    this.failures += 1;
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }
}
