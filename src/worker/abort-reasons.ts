/** Why a running handler was aborted; the worker's run path branches on the kind. */
export type AbortKind = 'timeout' | 'cancelled' | 'lease_lost' | 'shutdown';

export class JobAbort extends Error {
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
    this.name = 'JobAbort';
  }
}

export const abortKind = (signal: AbortSignal): AbortKind | null =>
  signal.aborted && signal.reason instanceof JobAbort ? signal.reason.kind : null;
