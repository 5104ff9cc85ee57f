/**
 * The one place where driver errors of the PostgreSQL store become `SecretaryError`s, so the
 * store throws the same codes as every other backend.
 */
import { SecretaryError, coerceError } from '../../core/errors.js';

interface PgErrorFields {
  code?: string;
  constraint?: string;
  detail?: string;
}

const fields = (err: unknown): PgErrorFields =>
  typeof err === 'object' && err !== null ? (err as PgErrorFields) : {};

/** SQLSTATE classes and socket codes that mean "the database is unreachable or went away". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

export const isConnectionError = (err: unknown): boolean => {
  const { code } = fields(err);
  if (code && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect/i.test(
    message,
  );
};

export const isUniqueViolation = (err: unknown, constraint?: string): boolean => {
  const f = fields(err);
  return f.code === '23505' && (constraint === undefined || f.constraint === constraint);
};

/** Maps anything a store operation threw to a `SecretaryError` (a `SecretaryError` passes through). */
export const mapPgError = (thrown: unknown): SecretaryError => {
  if (thrown instanceof SecretaryError) return thrown;
  const err = coerceError(thrown);
  const f = fields(thrown);
  if (isUniqueViolation(thrown, 'jobs_external_id_key')) {
    return new SecretaryError(
      'DUPLICATE_EXTERNAL_ID',
      `external_id already exists${f.detail ? `: ${f.detail}` : ''}`,
    );
  }
  if (isUniqueViolation(thrown, 'jobs_job_id_key')) {
    return new SecretaryError('CONFLICT', 'a job with this job_id exists');
  }
  // 22P05: a NUL (\u0000) in a JSON string, which jsonb cannot store; 22P02/22007/22008: bad input values.
  if (f.code === '22P05' || f.code === '22P02' || f.code === '22007' || f.code === '22008') {
    return new SecretaryError('INVALID_PARAMETERS', `value not storable: ${err.message}`, {
      details: [{ path: '/', problem: err.message }],
    });
  }
  const reason = isConnectionError(thrown) ? 'database unreachable' : 'database error';
  const wrapped = new SecretaryError(
    'STORE_ERROR',
    `${reason}: ${err.message}`,
    f.code ? { sqlstate: f.code } : null,
  );
  (wrapped as Error & { cause?: unknown }).cause = err;
  return wrapped;
};
