/**
 * Webhook outbox statements. Records of one target (a job id, or `batch:<id>`) go out one at a
 * time in `seq` order: only the oldest unfinished (`pending`/`sending`) record of a target is
 * claimable. `SKIP LOCKED` keeps concurrent senders apart.
 */
import type { PgNames } from '../pg-names.js';
import { NEW_EVENT_ID, NOW, OUTBOX_INSERT_COLUMNS, TERMINAL, appendCapped } from './fragments.js';

const SUPERSEDED = (n: PgNames, a: string): string =>
  `EXISTS (SELECT 1 FROM ${n.outbox} l WHERE l.target = ${a}.target AND l.seq > ${a}.seq AND l.status = 'pending')`;

/** $1 limit, $2 owner, $3 leaseMs. */
export const claimOutboxSql = (n: PgNames): string => `
WITH c AS (
  SELECT o.seq FROM ${n.outbox} o
  WHERE o.status IN ('pending', 'sending')
    AND ((o.status = 'pending' AND o.next_attempt_at <= now()) OR (o.status = 'sending' AND o.lease_expires_at < now()))
    AND NOT EXISTS (SELECT 1 FROM ${n.outbox} p
                    WHERE p.target = o.target AND p.seq < o.seq AND p.status IN ('pending', 'sending'))
  ORDER BY o.next_attempt_at, o.seq
  LIMIT $1
  FOR UPDATE SKIP LOCKED
),
u AS (
  UPDATE ${n.outbox} o SET status = 'sending', lease_owner = $2,
    lease_expires_at = ${NOW} + $3 * interval '1 millisecond', attempts = o.attempts + 1
  FROM c WHERE o.seq = c.seq
  RETURNING o.*
)
SELECT u.*, ${SUPERSEDED(n, 'u')} AS superseded FROM u ORDER BY u.next_attempt_at, u.seq`;

/**
 * $1 event_id, $2 owner, $3 new status, $4 next attempt (retry; NULL: now), $5 delivery attempts
 * to log (JSON array), $6 delivery cap.
 */
export const finishOutboxSql = (n: PgNames): string => `
WITH f AS (
  UPDATE ${n.outbox} SET status = $3, next_attempt_at = COALESCE($4::timestamptz, ${NOW}),
    lease_owner = NULL, lease_expires_at = NULL
  WHERE event_id = $1 AND lease_owner = $2 AND status = 'sending'
  RETURNING job_id
),
d AS (
  UPDATE ${n.jobs} j SET deliveries = ${appendCapped('j.deliveries', '$5::jsonb', '$6::int')}
  FROM f WHERE j.job_id = f.job_id AND jsonb_array_length($5::jsonb) > 0
  RETURNING 1
)
SELECT (SELECT count(*) FROM f)::int AS finished`;

/** $1 job_id: a new record of the terminal job's kind, if it has a webhook. */
export const redeliverSql = (n: PgNames): string => `
WITH r AS (
  INSERT INTO ${n.outbox} ${OUTBOX_INSERT_COLUMNS}
  SELECT ${NEW_EVENT_ID}, job_id, job_id, NULL, status, jsonb_build_object('status', status, 'redelivery', true),
    'pending', ${NOW}, ${NOW}
  FROM ${n.jobs} WHERE job_id = $1 AND status IN ${TERMINAL} AND webhook IS NOT NULL
  RETURNING *
)
SELECT r.*, false AS superseded FROM r`;

/** $1 job_id. */
export const listOutboxSql = (n: PgNames): string => `
SELECT o.*, ${SUPERSEDED(n, 'o')} AS superseded FROM ${n.outbox} o WHERE o.job_id = $1 ORDER BY o.seq`;

/** $1 job_id. */
export const getDeliveriesSql = (n: PgNames): string =>
  `SELECT deliveries FROM ${n.jobs} WHERE job_id = $1`;
