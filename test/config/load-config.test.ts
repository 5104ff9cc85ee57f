import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { tempDir } from '../helpers/worker-fixtures.js';

const keys = (o: unknown, p = ''): string[] =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && Object.keys(o).length > 0
    ? Object.entries(o).flatMap(([k, v]) => keys(v, p ? `${p}.${k}` : k))
    : [p];

describe('config', () => {
  it('config/config.yaml documents exactly the default keys and values', () => {
    const file = parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'config', 'config.yaml'), 'utf8'),
    ) as unknown;
    expect(keys(file).sort()).toEqual(keys(DEFAULT_CONFIG).sort());
    expect(file).toEqual(DEFAULT_CONFIG);
  });

  it('loads defaults, resolves home paths and freezes the result', () => {
    const { dir, cleanup } = tempDir();
    try {
      const c = loadConfig({ home: dir, env: {} });
      expect(c.store.url).toBe(`sqlite:${join(dir, 'data', 'secretary.db')}`);
      expect(c.paths.cache_dir).toBe(join(dir, 'cache'));
      expect(c.generic_worker.max_concurrent).toBe(3);
      expect(Object.isFrozen(c.generic_worker)).toBe(true);
      expect(() => {
        (c.server as { port: number }).port = 1;
      }).toThrow();
    } finally {
      cleanup();
    }
  });

  it('applies env overrides (typed) and the well-known variables', () => {
    const c = loadConfig({
      home: '/tmp',
      env: {
        SECRETARY__GENERIC_WORKER__MAX_CONCURRENT: '7',
        SECRETARY__GENERIC_WORKER__MAX_CONCURRENT_PER_TYPE: '{"pdf":2}',
        SECRETARY_ALLOW_PRIVATE_URLS: '1',
        SECRETARY_SERVICE_API_KEY: 'k-12345678',
        DATABASE_URL: 'postgres://u@h/db',
      },
    });
    expect(c.generic_worker.max_concurrent).toBe(7);
    expect(c.generic_worker.max_concurrent_per_type).toEqual({ pdf: 2 });
    expect(c.security.allow_private_urls).toBe(true);
    expect(c.auth.api_keys).toEqual([{ key: 'k-12345678', admin: true }]);
    expect(c.store.url).toBe('postgres://u@h/db');
  });

  it('rejects a bad or unknown key with a message naming it', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'generic_worker:\n  max_concurent: 4\n');
      expect(() => loadConfig({ home: dir, configPath: file, env: {} })).toThrow(
        /unknown config key generic_worker\.max_concurent/,
      );
      writeFileSync(file, 'generic_worker:\n  max_concurrent: "lots"\n');
      expect(() => loadConfig({ home: dir, configPath: file, env: {} })).toThrow(ConfigError);
      expect(() => loadConfig({ home: dir, configPath: file, env: {} })).toThrow(
        /generic_worker\.max_concurrent/,
      );
      expect(() => loadConfig({ home: dir, env: { SECRETARY__LOG__LEVEL: 'loud' } })).toThrow(
        /log\.level/,
      );
    } finally {
      cleanup();
    }
  });

  it('merges provider entries with their defaults and reads keys and base URLs only from the environment', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(
        file,
        'llm:\n  providers:\n    ollama: {base_url: "http://127.0.0.1:11434/v1"}\n    openai: {max_concurrent: 9, models: {my-model: {input: 1}}}\n  use_cases:\n    chat: {provider: ollama, model: llama3}\n',
      );
      const c = loadConfig({
        home: dir,
        configPath: file,
        env: {
          OPENAI_API_KEY: 'sk-test',
          MISTRAL_BASE_URL: 'http://127.0.0.1:9/v1',
          MISTRAL_MODEL: 'ocr-x',
        },
      });
      expect(c.llm.providers.ollama).toMatchObject({
        kind: 'openai',
        max_concurrent: 4,
        api_key: null,
        models: {},
      });
      expect(c.llm.providers.openai).toMatchObject({
        max_concurrent: 9,
        api_key: 'sk-test',
        base_url: 'https://api.openai.com/v1',
      });
      expect(c.llm.providers.openai!.models['gpt-4o-mini']).toEqual({ input: 0.15, output: 0.6 });
      expect(c.llm.providers.openai!.models['my-model']).toEqual({ input: 1 });
      expect(c.llm.providers.mistral).toMatchObject({
        base_url: 'http://127.0.0.1:9/v1',
        api_key: null,
      });
      expect(c.llm.use_cases.ocr.model).toBe('ocr-x');
      expect(c.llm.use_cases.chat).toEqual({ provider: 'ollama', model: 'llama3' });

      writeFileSync(file, 'llm:\n  providers:\n    openai: {api_key: "sk-in-file"}\n');
      expect(() => loadConfig({ home: dir, configPath: file, env: {} })).toThrow(
        /only from the environment.*api_key_env/,
      );
      writeFileSync(file, 'llm:\n  providers:\n    openai: {kind: anthropic}\n');
      expect(() => loadConfig({ home: dir, configPath: file, env: {} })).toThrow(
        /llm\.providers\.openai\.kind/,
      );
      writeFileSync(file, 'llm:\n  use_cases:\n    chat: {provider: nobody, model: x}\n');
      expect(() => loadConfig({ home: dir, configPath: file, env: {} })).toThrow(
        /llm\.use_cases\.chat\.provider/,
      );
      writeFileSync(file, 'llm:\n  providers:\n    openai: {models: {gpt-x: {input: -1}}}\n');
      expect(() => loadConfig({ home: dir, configPath: file, env: {} })).toThrow(
        /models\.gpt-x\.input/,
      );
    } finally {
      cleanup();
    }
  });
});
