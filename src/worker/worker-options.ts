/** What a `WorkerManager` is configured with and reports to: options, logger and hooks. */
import type { ClaimedJob } from '../core/job.js';
import type { ClaimGate } from './claim-gate.js';

export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface WorkerOptions {
  maxConcurrent: number;
  maxConcurrentPerType?: Record<string, number>;
  clusterMaxConcurrentPerType?: Record<string, number>;
  pollIntervalMs: number;
  leaseMs: number;
  heartbeatMs: number;
  reaperIntervalMs: number;
  timeoutMs: number;
  timeoutMsPerType?: Record<string, number>;
  backoffBaseMs: number;
  backoffMaxMs: number;
  progressIntervalMs?: number;
  /** Fail pending jobs of types this worker does not know with UNKNOWN_JOB_TYPE. Default true. */
  failUnknownTypes?: boolean;
  /**
   * Claims in flight at once. Default 2 on stores whose claims skip each other's rows
   * (`capabilities.skipLocked`: PostgreSQL), else 1. With 2, each claim asks for at most half
   * of `max_concurrent`, so jobs start while the next claim's round trip is under way.
   */
  claimsInFlight?: number;
  workerId?: string;
  /**
   * Work of this process that goes first: while `busy()`, claims wait (re-checked every
   * 20 ms) for at most `maxDeferMs` (the API's `IngressActivity`: a burst of uploads is
   * acknowledged before the jobs it created start).
   */
  claimGate?: ClaimGate;
}

export interface WorkerEvents {
  onJobStart?: (job: ClaimedJob) => void;
  onJobEnd?: (
    job: ClaimedJob,
    outcome: 'completed' | 'failed' | 'retry' | 'released' | 'lost',
    ms: number,
  ) => void;
  onClaim?: (count: number, ms: number) => void;
}
