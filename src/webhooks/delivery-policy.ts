/**
 * What a webhook request carries (headers, signature) and what its result means
 * (delivered / retry / failed), see docs/webhooks.md.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { WebhookConfig } from '../core/job.js';
import { backoffMs } from '../worker/backoff.js';
import type { PostResult } from './http-post.js';

const findVersion = (): string => {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'secretary' && pkg.version) return pkg.version;
    } catch {
      // not here; look one level up
    }
    dir = new URL('..', dir);
  }
  return '0.0.0';
};

export const SECRETARY_VERSION = findVersion();

/** Headers a job's own `webhook.headers` may not set (ours, or hop-by-hop). */
const RESERVED = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'x-secretary-event-id', 'x-secretary-event', 'x-secretary-timestamp', 'x-secretary-signature', 'x-secretary-attempt',
]);

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` */
export const signBody = (secret: string, timestamp: number, body: string): string =>
  `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

export interface HeaderInput {
  webhook: WebhookConfig;
  eventId: string;
  kind: string;
  attempt: number;
  body: string;
  signingSecret: string | null;
  now?: number;
}

export const buildHeaders = (h: HeaderInput): OutgoingHttpHeaders => {
  const headers: OutgoingHttpHeaders = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'User-Agent': `Secretary/${SECRETARY_VERSION}`,
  };
  for (const [name, value] of Object.entries(h.webhook.headers ?? {})) {
    if (typeof value !== 'string' || RESERVED.has(name.toLowerCase())) continue;
    if (/[\r\n]/.test(value) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) continue;
    headers[name] = value;
  }
  if (h.webhook.token) {
    headers.Authorization = `Bearer ${h.webhook.token}`;
    headers['X-Callback-Token'] = h.webhook.token;
  }
  headers['X-Secretary-Event-Id'] = h.eventId;
  headers['X-Secretary-Event'] = h.kind;
  headers['X-Secretary-Attempt'] = String(h.attempt);
  if (h.signingSecret) {
    const ts = Math.floor((h.now ?? Date.now()) / 1000);
    headers['X-Secretary-Timestamp'] = String(ts);
    headers['X-Secretary-Signature'] = signBody(h.signingSecret, ts, h.body);
  }
  return headers;
};

/** `Retry-After` in ms (delta seconds or HTTP date), or null. */
export const retryAfterMs = (value: string | string[] | undefined, now = Date.now()): number | null => {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
};

export interface RetryPolicy {
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Cap for a receiver's `Retry-After`. */
  maxRetryAfterMs: number;
}

export type Decision =
  | { outcome: 'delivered'; error: null }
  | { outcome: 'failed'; error: string }
  | { outcome: 'retry'; error: string; delayMs: number };

/**
 * Maps a request result to an outcome.
 * - 2xx: delivered.
 * - not delivered (refused, DNS, reset before any answer, TLS): retry.
 * - 429 / 503: retry, honouring `Retry-After`.
 * - delivered but no answer in time, other 5xx/4xx, 3xx: `failed` under `at_most_once`
 *   (the receiver may have acted on it), retried under `at_least_once`.
 * Retries stop after `maxRetries` (the attempt that exhausts them ends `failed`).
 */
export const decide = (r: PostResult, mode: WebhookConfig['delivery'], attempt: number, p: RetryPolicy): Decision => {
  if (r.kind === 'response' && r.status >= 200 && r.status < 300) return { outcome: 'delivered', error: null };
  let error: string;
  let retryable: boolean;
  let hint: number | null = null;
  if (r.kind === 'not_delivered') {
    error = `not delivered: ${r.error}`;
    retryable = true;
  } else if (r.kind === 'no_answer') {
    error = `sent, ${r.error}`;
    retryable = mode === 'at_least_once';
  } else if (r.status === 429 || r.status === 503) {
    error = `HTTP ${r.status}`;
    retryable = true;
    hint = retryAfterMs(r.headers['retry-after']);
  } else {
    error = `HTTP ${r.status}`;
    retryable = mode === 'at_least_once';
  }
  if (!retryable) return { outcome: 'failed', error: mode === 'at_least_once' ? error : `${error} (not resent: at_most_once)` };
  if (attempt > p.maxRetries) return { outcome: 'failed', error: `${error}; gave up after ${attempt} attempts` };
  const delayMs = hint !== null ? Math.min(hint, p.maxRetryAfterMs) : backoffMs(attempt, p.backoffBaseMs, p.backoffMaxMs);
  return { outcome: 'retry', error, delayMs };
};
