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

