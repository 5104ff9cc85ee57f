/**
 * THE store contract suite (docs/store-contract.md), written once and run against every backend:
 *
 * ```ts
 * runJobStoreContract({ name: 'SQLite', create: async (o) => { … fresh store … }, createPeer, cleanup });
 * ```
 *
 * Each test gets a fresh, empty store from `create()` and closes it afterwards; the factory
 * provides isolation (a fresh SQLite file, a fresh Postgres schema) and must honour
 * `options.limits`. `createPeer(first)` opens another connection on the same database for the
 * race tests; without it they race over one handle. With `skip: 'reason'` the suite is
 * registered as skipped, and the reason shows in the output.
 */
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest';
import { createHarness, type JobStoreContractOptions } from './contract-harness.js';
import { registerClaimTests } from './contract-claim.js';
import { registerControlTests } from './contract-control.js';
import { registerCreateTests } from './contract-create.js';
import { registerEventTests } from './contract-events.js';
import { registerFencingTests } from './contract-fencing.js';
import { registerFinishTests } from './contract-finish.js';
import { registerListTests } from './contract-list.js';
import { registerMaintenanceTests } from './contract-maintenance.js';
import { registerOutboxTests } from './contract-outbox.js';
import { registerUsageTests } from './contract-usage.js';

export type { ContractStoreOptions, JobStoreContractOptions } from './contract-harness.js';

export const runJobStoreContract = (opts: JobStoreContractOptions): void => {
  const title = `${opts.name} contract`;
  if (typeof opts.skip === 'string') {
    describe.skip(`${title} — skipped: ${opts.skip || 'no reason given'}`, () => {
      it('store contract', () => {});
    });
    return;
  }

  describe(title, () => {
    const h = createHarness(opts);
    beforeEach(() => h.setup());
    afterEach(() => h.teardown());
    afterAll(async () => {
      await opts.cleanup?.();
    });

    registerCreateTests(h);
    registerListTests(h);
    registerClaimTests(h);
    registerFencingTests(h);
    registerFinishTests(h);
    registerControlTests(h);
    registerMaintenanceTests(h);
    registerOutboxTests(h);
    registerEventTests(h);
    registerUsageTests(h);
  });
};
