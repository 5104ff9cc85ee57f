/** Flags every command shares, and how they become the frozen config. */
import { loadConfig, type DeepPartial } from '../config/load-config.js';
import type { SecretaryConfig } from '../config/defaults.js';

export interface CommonFlags {
  home?: string;
  config?: string;
  store?: string;
}

export const configFrom = (
  flags: CommonFlags,
  overrides: DeepPartial<SecretaryConfig> = {},
): SecretaryConfig =>
  loadConfig({
    home: flags.home,
    configPath: flags.config,
    overrides: { ...overrides, ...(flags.store ? { store: { url: flags.store } } : {}) },
  });

export const commonOptions = {
  home: { type: 'string' },
  config: { type: 'string' },
  store: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
