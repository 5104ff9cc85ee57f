/** The API's count of submissions in flight and its burst signal for the worker's claim gate. */
import { describe, expect, it } from 'vitest';
import { IngressActivity } from '../../src/core/ingress-activity.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('IngressActivity', () => {
  it('is busy while `threshold` submissions are in flight, and not when fewer are', async () => {
    const a = new IngressActivity(3, 1000, 20);
    const leaves = [a.enter(), a.enter()];
    await sleep(40); // the arrivals are older than the window
    expect(a.busy()).toBe(false);
    leaves.push(a.enter());
    expect(a.count).toBe(3);
    expect(a.busy()).toBe(true);
    leaves[0]!();
    leaves[0]!(); // leaving twice counts once
    expect(a.count).toBe(2);
    await sleep(40);
    expect(a.busy()).toBe(false);
  });

  it('is busy while `threshold` arrivals fall within the window, though each was answered', async () => {
    const a = new IngressActivity(4, 1000, 200);
    for (let i = 0; i < 4; i++) a.enter()();
    expect(a.count).toBe(0);
    expect(a.busy()).toBe(true);
    await sleep(250);
    expect(a.busy()).toBe(false);
    // steady traffic below the rate: one arrival now and then is never a burst
    for (let i = 0; i < 3; i++) a.enter()();
    expect(a.busy()).toBe(false);
  });

  it('maxDeferMs 0 turns it off', () => {
    const a = new IngressActivity(1, 0);
    a.enter();
    expect(a.busy()).toBe(false);
  });
});
