/**
 * SQL fragments shared by the statements of the PostgreSQL store: the clock, capped jsonb
 * appends and outbox inserts.
 *
 * Time: every timestamp a transition writes comes from the database clock (`now()`, the start
 * of the transaction), truncated to milliseconds so the stored instant is exactly the ISO string
 * the contract returns. One clock for all hosts keeps leases and `run_at` comparable.
 */
export const NOW = `date_trunc('milliseconds', now())`;

/**
 * A parameter the planner cannot look into, in a custom plan as in the generic one. Planning
 * the hot statements costs more than running them (claim ~1.7 ms, grouped finish ~0.6 ms, vs a
 * fraction of that to execute). With the request's values hidden a custom plan costs the same as
 * the cached generic plan, so PostgreSQL keeps reusing the generic plan. Without it, an
 * `unnest($1)` of one element looks cheaper as a custom plan (1 row instead of the generic 10),
 * and PostgreSQL re-plans the statement on every execution.
 */
export const opaque = (param: string): string => `(SELECT ${param})`;

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

/**
 * A SELECT-list item that makes the statement's (implicit) transaction commit without waiting for
 * the WAL flush. Only for writes the lease protocol already tolerates losing in a database crash
 * (claims, lease renewals, progress, logs); see docs/postgres.md. Completions, failures,
 * cancellations and enqueues always commit durably.
 */
export const ASYNC_COMMIT = `set_config('synchronous_commit', 'off', true) AS async_commit`;
