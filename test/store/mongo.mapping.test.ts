/**
 * The MongoDB store's pure parts, which run without a server: document ↔ model mapping,
 * query and update builders, cursors, index specs, change-stream event mapping.
 */
import { describe, expect, it } from 'vitest';
import { SecretaryError } from '../../src/core/errors.js';
import type { Job } from '../../src/core/job.js';
import { buildBatch, buildJob } from '../../src/store/store-shared.js';
import { RecentKeys, changeToEvents, feedPipeline } from '../../src/store/mongo/change-events.js';
import {
  batchToDoc,
  dbNameFromUrl,
  docToBatch,
  docToClaimedJob,
  docToJob,
  docToOutbox,
  findDollarKey,
  isoOf,
  jobToDoc,
  logToDoc,
  toDate,
  type JobDoc,
  type OutboxDoc,
} from '../../src/store/mongo/documents.js';
import { BATCH_INDEXES, JOB_INDEXES, OUTBOX_INDEXES, collectionNames } from '../../src/store/mongo/indexes.js';
import {
  CLAIM_SORT,
  batchListFilter,
  claimFilter,
  claimUpdate,
  counterMove,
  decodeListCursor,
  encodeListCursor,
  fence,
  jobListFilter,
  outboxClaimFilter,
  outboxHeadsPipeline,
  pageOf,
  pushCapped,
} from '../../src/store/mongo/queries.js';
import { roomOf } from '../../src/store/mongo/claim.js';

const NOW = '2025-03-06T12:56:36.123Z';

const sampleJob = (): Job =>
  buildJob(
    {
      job_type: 'pdf',
      parameters: { url: 'https://example/doc.pdf', 'key.with.dots': 1, nested: { a: [1, { b: null }] } },
      webhook: { url: 'https://client/cb', token: 't' },
      user_id: 'u-123',
      external_id: 'client-42',
      priority: 5,
      run_at: '2025-03-06T13:00:00.000Z',
    },
    NOW,
  );

describe('mongo documents', () => {
  it('round-trips a job through its document exactly, with BSON dates for timestamps', () => {
    const job = { ...sampleJob(), logs: [{ timestamp: NOW, level: 'info' as const, message: 'Job started' }] };
    const doc = jobToDoc(job, 7);
    expect(doc.created_at).toBeInstanceOf(Date);
    expect(doc.run_at).toBeInstanceOf(Date);
    expect(doc.logs[0]?.timestamp).toBeInstanceOf(Date);
    expect(doc).toMatchObject({ seq: 7, archived: false, lease_token: null, webhook_deliveries: [], external_id: 'client-42' });
    expect(docToJob(doc)).toEqual(job);
  });

  it('keeps the seeds’ field names (readable by the original’s tools)', () => {
    const doc = jobToDoc(sampleJob(), 1);
    for (const f of ['job_id', 'job_type', 'status', 'parameters', 'progress', 'results', 'error', 'created_at', 'updated_at',
      'processing_started_at', 'completed_at', 'batch_id', 'user_id', 'access_control', 'logs']) {
      expect(doc).toHaveProperty(f);
    }
    const batch = batchToDoc(buildBatch({ jobs: [{ job_type: 'pdf' }] }, NOW), 3);
    for (const f of ['batch_id', 'batch_name', 'status', 'total_jobs', 'completed_jobs', 'failed_jobs', 'pending_jobs',
      'processing_jobs', 'created_at', 'updated_at']) {
      expect(batch).toHaveProperty(f);
    }
  });

  it('maps a document written by the original (no seq, version, run_at …) to a valid job', () => {
    const created = new Date('2025-03-01T10:11:12.345Z');
    const legacy = {
      job_id: 'job-legacy',
      job_type: '',
      status: 'completed',
      parameters: { extra: {} },
      created_at: created,
      logs: [{ timestamp: created, level: 'info', message: 'Job-Verarbeitung gestartet' }],
    } as unknown as JobDoc;
    const job = docToJob(legacy);
    expect(job).toMatchObject({
      job_type: 'session',
      status: 'completed',
      created_at: created.toISOString(),
      updated_at: created.toISOString(),
      run_at: created.toISOString(),
      priority: 0,
      attempts: 0,
      max_attempts: 3,
      version: 1,
      external_id: null,
      webhook: null,
      access_control: { visibility: 'private', read_access: [], write_access: [], admin_access: [] },
    });
    expect(job.logs[0]?.timestamp).toBe(created.toISOString());
  });

  it('hands the lease token to the claimer', () => {
    const doc = { ...jobToDoc(sampleJob(), 1), status: 'processing' as const, lease_token: 'tok' };
    expect(docToClaimedJob(doc).lease_token).toBe('tok');
    expect('lease_token' in docToJob(doc)).toBe(false);
  });

  it('round-trips a batch', () => {
    const b = buildBatch({ batch_name: 'import', jobs: [{ job_type: 'a' }, { job_type: 'b' }], user_id: 'u' }, NOW);
    const doc = batchToDoc(b, 9);
    expect(doc).toMatchObject({ seq: 9, rev: 0, archived: false, isActive: true, status: 'pending', total_jobs: 2 });
    expect(docToBatch(doc)).toEqual(b);
  });

  it('maps outbox documents with ISO timestamps', () => {
    const d: OutboxDoc = {
      event_id: 'evt-1', seq: 3, target: 'job:j', job_id: 'j', batch_id: null, kind: 'completed', snapshot: { status: 'completed' },
      status: 'sending', attempts: 1, next_attempt_at: new Date(NOW), created_at: new Date(NOW), lease_owner: 'w', lease_expires_at: new Date(NOW),
    };
    expect(docToOutbox(d, true)).toEqual({
      event_id: 'evt-1', seq: 3, job_id: 'j', batch_id: null, kind: 'completed', snapshot: { status: 'completed' },
      status: 'sending', attempts: 1, next_attempt_at: NOW, created_at: NOW, superseded: true,
    });
  });

  it('converts timestamps strictly on the way in and tolerantly on the way out', () => {
    expect(toDate(NOW).toISOString()).toBe(NOW);
    expect(() => toDate('yesterday')).toThrow(RangeError);
    expect(isoOf(new Date(NOW))).toBe(NOW);
    expect(isoOf(NOW)).toBe(NOW);
    expect(isoOf(Date.parse(NOW))).toBe(NOW);
    expect(logToDoc({ timestamp: 'not a date', level: 'info', message: 'm' }).timestamp).toBe('not a date');
  });

  it('finds $-prefixed keys anywhere (they are refused), but not dotted keys or $ in values', () => {
    expect(findDollarKey({ a: { b: [{ $gt: 1 }] } })).toBe('/a/b/0/$gt');
    expect(findDollarKey({ $where: 'x' }, '/parameters')).toBe('/parameters/$where');
    expect(findDollarKey({ 'key.with.dots': '$notakey', list: ['$x'] })).toBeNull();
    expect(findDollarKey(null)).toBeNull();
  });

  it('takes the database name from the URI path, like the original', () => {
    expect(dbNameFromUrl('mongodb://localhost:27017/secretary')).toBe('secretary');
    expect(dbNameFromUrl('mongodb://u:p%40ss@h1:27017,h2:27017/prod_db?replicaSet=rs0&authSource=admin')).toBe('prod_db');
    expect(dbNameFromUrl('mongodb+srv://cluster0.example.net/app?retryWrites=true')).toBe('app');
    expect(dbNameFromUrl('mongodb://localhost:27017')).toBeNull();
    expect(dbNameFromUrl('mongodb://localhost:27017/')).toBeNull();
    expect(dbNameFromUrl('mongodb://localhost:27017/?replicaSet=rs0')).toBeNull();
  });
});

describe('mongo queries', () => {
  const now = new Date(NOW);

  it('claims pending, due jobs of the listed types in queue order', () => {
    expect(claimFilter(['a'], now)).toEqual({ status: 'pending', run_at: { $lte: now }, job_type: 'a' });
    expect(claimFilter(['a', 'b'], now)).toEqual({ status: 'pending', run_at: { $lte: now }, job_type: { $in: ['a', 'b'] } });
    expect(Object.entries(CLAIM_SORT)).toEqual([['priority', -1], ['run_at', 1], ['seq', 1]]);
  });

  it('claims with a fresh lease, resets progress and counts the attempt', () => {
    expect(claimUpdate('w1', 'tok', now, 30_000)).toEqual({
      $set: {
        status: 'processing', lease_owner: 'w1', lease_token: 'tok', lease_expires_at: new Date(now.getTime() + 30_000),
        processing_started_at: now, progress: null, updated_at: now,
      },
      $inc: { attempts: 1, version: 1 },
    });
  });

  it('fences worker writes by job, token and status', () => {
    expect(fence('j', 't')).toEqual({ job_id: 'j', lease_token: 't', status: 'processing' });
  });

  it('moves batch counters and always bumps rev', () => {
    expect(counterMove('pending', 'processing')).toEqual({ rev: 1, pending_jobs: -1, processing_jobs: 1 });
    expect(counterMove(null, 'pending', 3)).toEqual({ rev: 1, total_jobs: 3, pending_jobs: 3 });
    expect(counterMove('failed', null)).toEqual({ rev: 1, failed_jobs: -1, total_jobs: -1 });
    expect(counterMove('pending', 'pending')).toEqual({ rev: 1 });
  });

  it('caps pushed arrays with a negative $slice (keeps the newest)', () => {
    expect(pushCapped([1, 2], 500)).toEqual({ $each: [1, 2], $slice: -500 });
    expect(pushCapped([1], 0)).toEqual({ $each: [1], $slice: -0 });
  });

  it('builds list filters (status one or many, external id via the partial index, visible_to)', () => {
    expect(jobListFilter({}, null)).toEqual({});
    expect(jobListFilter({ status: ['failed', 'cancelled'], job_type: 'pdf', batch_id: 'b', user_id: 'u' }, 10)).toEqual({
      status: { $in: ['failed', 'cancelled'] }, job_type: 'pdf', batch_id: 'b', user_id: 'u', seq: { $lt: 10 },
    });
    expect(jobListFilter({ status: 'pending', external_id: 'x', visible_to: 'me' }, null)).toEqual({
      status: 'pending',
      $and: [
        { external_id: { $eq: 'x', $type: 'string' } },
        { $or: [{ user_id: 'me' }, { 'access_control.read_access': 'me' }, { 'access_control.visibility': 'public' }] },
      ],
    });
    expect(batchListFilter({ status: 'completed', visible_to: 'me' }, 4)).toMatchObject({ status: 'completed', seq: { $lt: 4 } });
  });

  it('round-trips its cursors and refuses anything else with INVALID_PARAMETERS', () => {
    expect(decodeListCursor(encodeListCursor(42))).toBe(42);
    expect(decodeListCursor(null)).toBeNull();
    for (const bad of ['not a cursor!', 'Zm9v', Buffer.from('{"a":1}').toString('base64url'),
      Buffer.from('["nope",{"x":1}]').toString('base64url'), Buffer.from('[1.5,"mseq"]').toString('base64url'),
      Buffer.from('[3,"s"]').toString('base64url')]) {
      expect(() => decodeListCursor(bad)).toThrow(SecretaryError);
    }
  });

  it('pages with limit + 1 rows and points the cursor at the last returned row', () => {
    const rows = [{ seq: 9 }, { seq: 8 }, { seq: 7 }];
    const p = pageOf(rows, 2, (r) => r.seq);
    expect(p.items).toEqual([9, 8]);
    expect(decodeListCursor(p.next_cursor)).toBe(8);
    expect(pageOf(rows.slice(0, 2), 2, (r) => r.seq).next_cursor).toBeNull();
  });

  it('finds outbox heads per target and claims them with a compare-and-set', () => {
    const p = outboxHeadsPipeline(now, 10) as Record<string, unknown>[];
    expect(p.map((s) => Object.keys(s)[0])).toEqual(['$match', '$sort', '$group', '$match', '$sort', '$limit']);
    expect(p[1]).toEqual({ $sort: { target: 1, seq: 1 } });
    const head = { event_id: 'e', status: 'pending', attempts: 2 } as OutboxDoc;
    expect(outboxClaimFilter(head, now)).toEqual({ event_id: 'e', status: 'pending', attempts: 2, next_attempt_at: { $lte: now } });
    expect(outboxClaimFilter({ ...head, status: 'sending' }, now)).toEqual({
      event_id: 'e', status: 'sending', attempts: 2, lease_expires_at: { $lt: now },
    });
  });

  it('computes claim room per type, capped by limit, dropping empty types', () => {
    expect([...roomOf({ owner: 'w', limit: 2, types: { a: 1, b: 5, z: 0 }, leaseMs: 1 })]).toEqual([['a', 1], ['b', 2]]);
  });
});

describe('mongo indexes', () => {
  const find = (name: string) => JOB_INDEXES.find((i) => i.name === name);

  it('has a claim index whose key order is status + the queue order', () => {
    expect(Object.entries(find('jobs_claim')!.key)).toEqual([['status', 1], ['priority', -1], ['run_at', 1], ['seq', 1]]);
  });

  it('keeps job_id unique and external_id unique only when it is a string', () => {
    expect(find('job_id_1')).toMatchObject({ unique: true });
    expect(find('external_id_unique')).toMatchObject({ unique: true, partialFilterExpression: { external_id: { $type: 'string' } } });
  });

  it('uses only partial-filter operators that MongoDB 6 accepts (no $in, $ne, $not)', () => {
    const all = [...JOB_INDEXES, ...BATCH_INDEXES, ...OUTBOX_INDEXES];
    const text = JSON.stringify(all.map((i) => i.partialFilterExpression ?? {}));
    expect(text).not.toMatch(/"\$(in|ne|nin|not|or)"/);
    expect(new Set(all.map((i) => i.name)).size).toBeGreaterThan(0);
  });

  it('prefixes collection names for tests', () => {
    expect(collectionNames('t_')).toMatchObject({ jobs: 't_jobs', batches: 't_batches', outbox: 't_outbox' });
  });
});

describe('mongo change events', () => {
  const names = { jobs: 'jobs', batches: 'batches', outbox: 'outbox' };
  const updatedAt = new Date(NOW);

  it('turns a job update into a job event, and a pending one into enqueued too', () => {
    const out = changeToEvents(
      {
        operationType: 'update',
        ns: { coll: 'jobs' },
        fullDocument: { job_id: 'j', job_type: 'pdf', batch_id: null, user_id: 'u', status: 'processing', progress: null, version: 5, updated_at: updatedAt },
        updateDescription: { updatedFields: { status: 'pending', version: 4, updated_at: updatedAt } },
      },
      names,
    );
    expect(out?.key).toBe('j:j:4');
    expect(out?.events).toEqual([
      { type: 'job', change: { job_id: 'j', job_type: 'pdf', batch_id: null, user_id: 'u', status: 'pending', progress: null, version: 4, updated_at: NOW } },
      { type: 'enqueued', job_types: ['pdf'] },
    ]);
  });

  it('maps outbox inserts and batch status changes; ignores deleted documents', () => {
    expect(changeToEvents({ operationType: 'insert', ns: { coll: 'outbox' }, fullDocument: { event_id: 'e1' } }, names)).toEqual({
      key: 'o:e1', events: [{ type: 'outbox' }],
    });
    expect(changeToEvents({ operationType: 'update', ns: { coll: 'batches' }, fullDocument: { batch_id: 'b', status: 'completed' } }, names)).toEqual({
      key: 'b:b:completed', events: [{ type: 'batch', batch_id: 'b', status: 'completed' }],
    });
    expect(changeToEvents({ operationType: 'update', ns: { coll: 'jobs' }, fullDocument: null }, names)).toBeNull();
  });

  it('filters the stream on the server to the store’s collections', () => {
    const text = JSON.stringify(feedPipeline({ jobs: 'p_jobs', batches: 'p_batches', outbox: 'p_outbox' }));
    expect(text).toContain('p_jobs');
    expect(text).toContain('updateDescription.updatedFields.version');
  });

  it('remembers local event keys for a while', () => {
    let t = 0;
    const r = new RecentKeys(100, 3, () => t);
    r.add('a');
    expect(r.has('a')).toBe(true);
    t = 150;
    expect(r.has('a')).toBe(false);
    for (const k of ['b', 'c', 'd', 'e']) r.add(k);
    expect(r.has('b')).toBe(false);
    expect(r.has('e')).toBe(true);
  });
});
