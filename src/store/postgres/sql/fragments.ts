/**
 * SQL fragments shared by the statements of the PostgreSQL store: the clock, capped jsonb
 * appends, outbox inserts and the NOTIFY payload of a job change.
 *
 * Time: every timestamp a transition writes comes from the database clock (`now()`, the start
 * of the transaction), truncated to milliseconds so the stored instant is exactly the ISO string
 * the contract returns. One clock for all hosts keeps leases and `run_at` comparable.
 */
import type { PgNames } from '../pg-names.js';
import { quoteLiteral } from '../pg-names.js';

export const NOW = `date_trunc('milliseconds', now())`;

export const TERMINAL = `('completed', 'failed', 'cancelled')`;

/** `col || entries`, keeping only the newest `cap` elements; `col` unchanged when nothing is added. */
export const appendCapped = (col: string, entries: string, cap: string): string => `CASE
    WHEN jsonb_array_length(${entries}) = 0 THEN ${col}
    WHEN jsonb_array_length(${col}) + jsonb_array_length(${entries}) <= ${cap} THEN ${col} || ${entries}
    ELSE jsonb_path_query_array(${col} || ${entries}, '$[last - ($n - 1) to last]', jsonb_build_object('n', ${cap}))
  END`;

/** A fresh outbox event id. */
export const NEW_EVENT_ID = `'evt-' || gen_random_uuid()::text`;

/** Column list of an outbox insert, matching `outboxValues`. */
export const OUTBOX_INSERT_COLUMNS = `(event_id, target, job_id, batch_id, kind, snapshot, status, next_attempt_at, created_at)`;

/** SELECT list of an outbox insert for a job record. */
export const jobOutboxValues = (jobId: string, kind: string, snapshot: string): string =>
  `${NEW_EVENT_ID}, ${jobId}, ${jobId}, NULL, ${kind}, ${snapshot}, 'pending', ${NOW}, ${NOW}`;

/** Largest NOTIFY payload we send (the server refuses 8000 bytes and more). */
export const MAX_NOTIFY_BYTES = 7900;

const epochMs = (expr: string): string => `(extract(epoch FROM ${expr}) * 1000)::bigint`;

/**
 * `CROSS JOIN LATERAL (…) np`: the NOTIFY payload of the job change in row `a` (a compact
 * JobChange; progress step and message are cut so the payload stays small). `outboxed` is a
 * boolean SQL expression: whether this change wrote outbox records.
 */
export const jobNotifyLateral = (n: PgNames, a: string, outboxed: string): string => `CROSS JOIN LATERAL (
    SELECT json_build_object('o', ${quoteLiteral(n.origin)}, 'k', 'j', 'id', ${a}.job_id, 't', ${a}.job_type,
      'b', ${a}.batch_id, 'u', ${a}.user_id, 's', ${a}.status, 'v', ${a}.version, 'at', ${epochMs(`${a}.updated_at`)},
      'p', CASE WHEN ${a}.progress IS NULL THEN NULL ELSE json_build_object('step', left(${a}.progress->>'step', 200),
        'percent', ${a}.progress->'percent', 'message', left(${a}.progress->>'message', 1000)) END,
      'w', ${outboxed})::text AS payload
  ) np`;

/** The `pg_notify` call for `jobNotifyLateral` (an oversized payload degrades to a no-op note). */
export const jobNotifyCall = (n: PgNames): string =>
  `pg_notify(${quoteLiteral(n.channel)}, CASE WHEN octet_length(np.payload) < ${MAX_NOTIFY_BYTES} THEN np.payload
     ELSE ${quoteLiteral(JSON.stringify({ o: n.origin, k: 'x' }))} END) AS notified`;

/** A notification that outbox records are waiting. */
export const outboxNotifyCall = (n: PgNames): string =>
  `pg_notify(${quoteLiteral(n.channel)}, ${quoteLiteral(JSON.stringify({ o: n.origin, k: 'o' }))})`;
