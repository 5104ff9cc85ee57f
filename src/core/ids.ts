import { randomUUID } from 'node:crypto';

export const newJobId = (): string => `job-${randomUUID()}`;
export const newBatchId = (): string => `batch-${randomUUID()}`;
export const newLeaseToken = (): string => randomUUID();
export const newEventId = (): string => `evt-${randomUUID()}`;

export const nowIso = (): string => new Date().toISOString();
