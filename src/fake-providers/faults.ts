/** Scripted faults per route, consumed in order by the next matching requests. */
import type { FakeRoute, Fault } from './types.js';

const MODEL_ROUTES = new Set<FakeRoute>([
  'openai.chat',
  'openai.transcriptions',
  'mistral.chat',
  'mistral.ocr',
]);

export class FaultQueue {
  private readonly queues = new Map<FakeRoute | '*', Fault[]>();

  push(route: FakeRoute | '*', faults: Fault[]): void {
    const q = this.queues.get(route) ?? [];
    q.push(...faults);
    this.queues.set(route, q);
  }

  /** The next fault for this route: its own queue first, then the `*` queue (model routes only). */
  take(route: FakeRoute): Fault | null {
    const own = this.queues.get(route);
    if (own?.length) return own.shift()!;
    const any = this.queues.get('*');
    if (MODEL_ROUTES.has(route) && any?.length) return any.shift()!;
    return null;
  }

  clear(): void {
    this.queues.clear();
  }
}

/** In-band directives in a prompt, e.g. `[[fake:status=500]]`, `[[fake:malformed_once]]`. */
export interface Directives {
  status?: number;
  delayMs?: number;
  malformed?: boolean;
  malformedOnce?: boolean;
  fence?: boolean;
  empty?: boolean;
}

export const parseDirectives = (text: string): Directives => {
  const d: Directives = {};
  for (const m of text.matchAll(/\[\[fake:([a-z_]+)(?:=([^\]]*))?\]\]/g)) {
    const [, name, value] = m;
    if (name === 'status' && value) d.status = Number(value);
    else if (name === 'delay' && value) d.delayMs = Number(value);
    else if (name === 'malformed') d.malformed = true;
    else if (name === 'malformed_once') d.malformedOnce = true;
    else if (name === 'fence') d.fence = true;
    else if (name === 'empty') d.empty = true;
  }
  return d;
};
