/**
 * Per-test store lifecycle for the contract suite: a fresh, empty store before each test,
 * extra handles (peers on the same database, or other fresh stores) on demand, all closed after.
 */
import type { JobStore, StoreLimits } from '../../src/store/job-store.js';

export interface ContractStoreOptions {
  /** Limits the new store must enforce (tests of log and delivery caps use small ones). */
  limits?: Partial<StoreLimits>;
}

export interface JobStoreContractOptions {
  /** Backend name, shown in the test titles. */
  name: string;
  /** A fresh, empty, initialised store on its own database (file, schema …). Must honour `limits`. */
  create: (options?: ContractStoreOptions) => Promise<JobStore>;
  /** Second handle on the SAME database (another connection), for race tests. */
  createPeer?: (first: JobStore) => Promise<JobStore>;
  /** Runs once after the whole suite (remove temp dirs, drop schemas). */
  cleanup?: () => Promise<void>;
  /** A reason to skip the whole suite (shown in the output), or false. */
  skip?: string | false;
}

export interface ContractHarness {
  /** The current test's fresh store. */
  readonly store: JobStore;
  /** Whether peers are real second connections (otherwise `peers` repeats `store`). */
  readonly hasPeers: boolean;
  /** `count` handles on the current test's database; the first is `store` itself. */
  peers(count: number): Promise<JobStore[]>;
  /** Another fresh, empty store (own database), e.g. with small limits; closed after the test. */
  open(options?: ContractStoreOptions): Promise<JobStore>;
}

export interface HarnessLifecycle extends ContractHarness {
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

export const createHarness = (opts: JobStoreContractOptions): HarnessLifecycle => {
  let current: JobStore | null = null;
  /** Closed in reverse order of opening (peers before the store they share a database with). */
  let opened: JobStore[] = [];

  return {
    get store(): JobStore {
      if (!current) throw new Error('contract harness: no store (used outside a test?)');
      return current;
    },
    hasPeers: opts.createPeer !== undefined,
    async peers(count: number): Promise<JobStore[]> {
      const first = this.store;
      const handles: JobStore[] = [first];
      for (let i = 1; i < count; i += 1) {
        if (opts.createPeer) {
          const peer = await opts.createPeer(first);
          opened.push(peer);
          handles.push(peer);
        } else {
          handles.push(first);
        }
      }
      return handles;
    },
    async open(options?: ContractStoreOptions): Promise<JobStore> {
      const store = await opts.create(options);
      opened.push(store);
      return store;
    },
    async setup(): Promise<void> {
      opened = [];
      current = await opts.create();
      opened.push(current);
    },
    async teardown(): Promise<void> {
      const toClose = opened.reverse();
      opened = [];
      current = null;
      const errors: unknown[] = [];
      for (const s of toClose) {
        try {
          await s.close();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
};
