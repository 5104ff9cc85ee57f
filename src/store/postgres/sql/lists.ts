/**
 * Job and batch lists: filters, newest first (`seq DESC`), keyset pagination on `seq`.
 * Cursors are `encodeCursor([seq, 's'])`; anything else is refused with INVALID_PARAMETERS.
 */
import type { BatchFilter, JobFilter } from '../../job-store.js';
import { asArray, decodeCursor, invalidCursor, singleStatus } from '../../store-shared.js';
import type { PgNames } from '../pg-names.js';
import { jobColumns } from '../rows.js';

export interface BuiltQuery {
  text: string;
  values: unknown[];
}

export const cursorSeq = (cursor: string | null | undefined): string | null => {
  if (!cursor) return null;
  const parts = decodeCursor(cursor);
  const seq = parts?.[0];
  if (
    parts?.length !== 2 ||
    parts[1] !== 's' ||
    typeof seq !== 'number' ||
    !Number.isSafeInteger(seq) ||
    seq < 0
  ) {
    throw invalidCursor();
  }
  return String(seq);
};

class Where {
  readonly clauses: string[] = [];
  readonly values: unknown[] = [];

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  add(clause: string): void {
    this.clauses.push(clause);
  }

  toString(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

/** The owner, anyone in `read_access`, or everyone when the visibility is `public`. */
const visibleTo = (w: Where, user: string): void => {
  const p = w.param(user);
  w.add(
    `(user_id = ${p} OR access_control->>'visibility' = 'public' OR access_control->'read_access' ? ${p})`,
  );
};

const statusIn = (w: Where, status: string | string[] | undefined): void => {
  const statuses = asArray(status);
  const single = singleStatus(statuses);
  if (single) {
    w.add(`status = '${single}'`);
  } else if (statuses?.length) {
    w.add(`status = ANY(${w.param(statuses)}::text[])`);
  }
};

const page = (w: Where, cursor: string | null | undefined, limit: number): string => {
  const after = cursorSeq(cursor);
  if (after !== null) w.add(`seq < ${w.param(after)}::bigint`);
  return `ORDER BY seq DESC LIMIT ${w.param(limit + 1)}`;
};

export const listJobsQuery = (
  n: PgNames,
  f: JobFilter,
  cursor: string | null | undefined,
  limit: number,
): BuiltQuery => {
  const w = new Where();
  statusIn(w, f.status);
  for (const key of ['job_type', 'batch_id', 'user_id', 'external_id'] as const) {
    const v = f[key];
    if (v !== undefined) w.add(`${key} = ${w.param(v)}`);
  }
  if (f.visible_to !== undefined) visibleTo(w, f.visible_to);
  const tail = page(w, cursor, limit);
  return {
    text: `SELECT ${jobColumns()} FROM ${n.jobs} ${w.toString()} ${tail}`,
    values: w.values,
  };
};

export const listBatchesQuery = (
  n: PgNames,
  f: BatchFilter,
  cursor: string | null | undefined,
  limit: number,
): BuiltQuery => {
  const w = new Where();
  statusIn(w, f.status);
  if (f.user_id !== undefined) w.add(`user_id = ${w.param(f.user_id)}`);
  if (f.visible_to !== undefined) visibleTo(w, f.visible_to);
  const tail = page(w, cursor, limit);
  return { text: `SELECT * FROM ${n.batches} ${w.toString()} ${tail}`, values: w.values };
};
