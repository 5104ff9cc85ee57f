/**
 * Names the SQL of one store instance uses: schema-qualified tables (no reliance on
 * `search_path`, which a transaction-mode pooler does not keep), the NOTIFY channel and the
 * instance's origin id (to recognise its own notifications).
 */
import { createHash, randomBytes } from 'node:crypto';

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`;

export interface PgNames {
  readonly schema: string;
  readonly jobs: string;
  readonly batches: string;
  readonly outbox: string;
  /** `secretary_batch_status(total, pending, processing, completed, failed, cancelled)`. */
  readonly batchStatus: string;
  /** The LISTEN/NOTIFY channel (unquoted). */
  readonly channel: string;
  /** Random id of this store instance, carried by every notification it sends. */
  readonly origin: string;
}

/** Channel names are identifiers (at most 63 bytes): long schema names are hashed. */
export const channelFor = (schema: string): string => {
  if (schema === 'public') return 'secretary_events';
  const plain = `secretary_events_${schema}`;
  if (Buffer.byteLength(plain) <= 63) return plain;
  return `secretary_events_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
};

export const pgNames = (schema: string): PgNames => {
  const s = quoteIdent(schema);
  return Object.freeze({
    schema,
    jobs: `${s}.jobs`,
    batches: `${s}.batches`,
    outbox: `${s}.outbox`,
    batchStatus: `${s}.secretary_batch_status`,
    channel: channelFor(schema),
    origin: randomBytes(6).toString('hex'),
  });
};
