/**
 * Every fixed statement of one store instance, built once from its names. Each has a stable
 * name so that, with `preparedStatements` on, a pooled connection parses and plans it once.
 */
import type { PgNames } from './pg-names.js';
import { claimAnySql, claimPerTypeSql } from './sql/claim.js';
import * as grouped from './sql/grouped.js';
import * as jobs from './sql/jobs.js';
import * as outbox from './sql/outbox.js';
import * as tr from './sql/transitions.js';

export interface Statement {
  readonly name: string;
  readonly text: string;
}

const build = (n: PgNames) => ({
  claimAny: claimAnySql(n),
  claimPerType: claimPerTypeSql(n),
  finishMany: grouped.finishManySql(n),
  progressMany: grouped.progressManySql(n),
  extendMany: grouped.extendManySql(n),
  cancel: tr.cancelSql(n),
  retry: tr.retrySql(n),
  reap: tr.reapSql(n),
  insertJob: jobs.insertJobsSql(n, { ifAbsent: true, moveBatches: true }),
  insertJobs: jobs.insertJobsSql(n, { ifAbsent: false, moveBatches: true }),
  insertBatchJobs: jobs.insertJobsSql(n, { ifAbsent: false, moveBatches: false }),
  insertBatch: jobs.insertBatchSql(n),
  deleteJob: jobs.deleteJobSql(n),
  appendLogFenced: jobs.appendLogFencedSql(n),
  appendLog: jobs.appendLogSql(n),
  setLlmInfo: jobs.setLlmInfoSql(n),
  getJob: jobs.getJobSql(n),
  getJobByExternalId: jobs.getJobByExternalIdSql(n),
  getJobVersion: jobs.getJobVersionSql(n),
  getBatch: jobs.getBatchSql(n),
  purgeJobs: jobs.purgeJobsSql(n),
  purgeRest: jobs.purgeRestSql(n),
  stats: jobs.statsSql(n),
  batchUsage: jobs.batchUsageSql(n),
  claimOutbox: outbox.claimOutboxSql(n),
  finishOutbox: outbox.finishOutboxSql(n),
  redeliver: outbox.redeliverSql(n),
  listOutbox: outbox.listOutboxSql(n),
  getDeliveries: outbox.getDeliveriesSql(n),
});

export type StatementKey = keyof ReturnType<typeof build>;
export type Statements = Readonly<Record<StatementKey, Statement>>;

export const buildStatements = (n: PgNames): Statements => {
  const texts = build(n);
  const out = {} as Record<StatementKey, Statement>;
  for (const key of Object.keys(texts) as StatementKey[]) {
    out[key] = Object.freeze({ name: `secretary_${key}`, text: texts[key] });
  }
  return Object.freeze(out);
};
