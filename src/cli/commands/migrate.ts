import { parseArgs } from 'node:util';
import { commonOptions, configFrom } from '../cli-config.js';
import { createStore, redactUrl, storeOptionsFromConfig } from '../../store/create-store.js';

/** `secretary migrate`: applies the store's migrations (safe to run from several hosts). */
export const migrateCommand = async (args: string[]): Promise<number> => {
  const { values } = parseArgs({ args, options: commonOptions, allowPositionals: false });
  const config = configFrom(values);
  process.stderr.write(`migrating ${redactUrl(config.store.url)} …\n`);
  const store = await createStore(storeOptionsFromConfig(config));
  await store.close();
  process.stderr.write('migrations applied\n');
  return 0;
};
