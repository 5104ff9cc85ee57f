/**
 * Loads the configuration once: defaults ← `config/config.yaml` (if present) ← environment,
 * validates every key (a bad or unknown key stops the start with a message naming it), and
 * returns a deep-frozen object. All `process.env` reads of the project live in this folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  DEFAULT_CONFIG,
  ENUM_KEYS,
  MAP_KEYS,
  NULLABLE_STRING_KEYS,
  PROVIDER_DEFAULTS,
  type LlmProviderConfig,
  type SecretaryConfig,
} from './defaults.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Directory holding `data/`, `cache/` and (optionally) `config/config.yaml`. */
  home?: string;
  /** Explicit config file; default `<home>/config/config.yaml`, else `./config/config.yaml`. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (CLI flags, tests). */
  overrides?: DeepPartial<SecretaryConfig>;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const merge = (base: Obj, over: Obj, path: string): Obj => {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const p = path ? `${path}.${k}` : k;
    if (v === undefined) continue;
    if (!(p in MAP_KEYS) && isObj(v) && isObj(base[k])) out[k] = merge(base[k] as Obj, v, p);
    else out[k] = v;
  }
  return out;
};

/** Entries of these maps may have any name; each is checked against the template. */
const DYNAMIC_MAPS: Record<string, unknown> = {
  'llm.providers': PROVIDER_DEFAULTS,
  'llm.providers.*.models': { input: 0, output: 0, per_1k_pages: 0, per_minute: 0 },
};

const PRICE_PATTERN = /^llm\.providers\.\*\.models\.\*\.[a-z_0-9]+$/;

/**
 * Checks `value` against the default `def`. `pattern` is the key with the names of dynamic map
 * entries replaced by `*` (`llm.providers.*.base_url`); names may contain dots (`gpt-4.1`).
 */
const check = (value: unknown, def: unknown, path: string, pattern = path): void => {
  if (pattern in DYNAMIC_MAPS) {
    if (!isObj(value))
      throw new ConfigError(`config key ${path}: expected a mapping of name → settings`);
    for (const [k, v] of Object.entries(value))
      check(v, DYNAMIC_MAPS[pattern], `${path}.${k}`, `${pattern}.*`);
    return;
  }
  if (PRICE_PATTERN.test(pattern)) {
    if (
      value !== undefined &&
      value !== null &&
      (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    ) {
      throw new ConfigError(`config key ${path}: expected a non-negative price (USD) or null`);
    }
    return;
  }
  if (path in MAP_KEYS) {
    if (!isObj(value))
      throw new ConfigError(`config key ${path}: expected a map of job_type → number`);
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new ConfigError(
          `config key ${path}.${k}: expected a non-negative number, got ${JSON.stringify(v)}`,
        );
      }
    }
    return;
  }
  if (NULLABLE_STRING_KEYS.has(pattern)) {
    if (value !== null && typeof value !== 'string')
      throw new ConfigError(`config key ${path}: expected a string or null`);
    return;
  }
  const allowed = ENUM_KEYS[pattern];
  if (allowed) {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw new ConfigError(
        `config key ${path}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
      );
    }
    return;
  }
  if (Array.isArray(def)) {
    if (!Array.isArray(value)) throw new ConfigError(`config key ${path}: expected a list`);
    return;
  }
  if (isObj(def)) {
    if (!isObj(value)) throw new ConfigError(`config key ${path}: expected a mapping`);
    for (const k of Object.keys(value)) {
      if (k in def) continue;
      if (k === 'api_key' && pattern === 'llm.providers.*') {
        throw new ConfigError(
          `config key ${path}.api_key: keys are read only from the environment; set the variable named by ${path}.api_key_env`,
        );
      }
      throw new ConfigError(`unknown config key ${path ? `${path}.` : ''}${k}`);
    }
    for (const [k, d] of Object.entries(def))
      check(value[k], d, path ? `${path}.${k}` : k, pattern ? `${pattern}.${k}` : k);
    return;
  }
  if (typeof def === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(
        `config key ${path}: expected a non-negative number, got ${JSON.stringify(value)}`,
      );
    }
    return;
  }
  if (typeof value !== typeof def) {
    throw new ConfigError(
      `config key ${path}: expected a ${typeof def}, got ${JSON.stringify(value)}`,
    );
  }
};

/** `SECRETARY__GENERIC_WORKER__MAX_CONCURRENT=5` sets `generic_worker.max_concurrent`. */
const fromEnv = (env: NodeJS.ProcessEnv): Obj => {
  const out: Obj = {};
  const set = (path: string[], raw: string): void => {
    let node = out;
    path.slice(0, -1).forEach((p) => {
      node[p] = isObj(node[p]) ? node[p] : {};
      node = node[p] as Obj;
    });
    node[path[path.length - 1]!] = coerce(raw);
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !k.startsWith('SECRETARY__')) continue;
    set(k.slice('SECRETARY__'.length).toLowerCase().split('__'), v);
  }
  const named: [string | undefined, string[]][] = [
    [env.DATABASE_URL, ['store', 'url']],
    [env.MONGODB_URI, ['store', 'url']],
    [env.SECRETARY_STORE_URL, ['store', 'url']],
    [env.PORT, ['server', 'port']],
    [env.SECRETARY_PUBLIC_BASE_URL, ['server', 'public_base_url']],
    [env.SECRETARY_LLM_BASE_URL, ['llm', 'providers', 'openai', 'base_url']],
    [env.OPENAI_BASE_URL, ['llm', 'providers', 'openai', 'base_url']],
    [env.OPENROUTER_BASE_URL, ['llm', 'providers', 'openrouter', 'base_url']],
    [env.SECRETARY_MISTRAL_BASE_URL, ['llm', 'providers', 'mistral', 'base_url']],
    [env.MISTRAL_BASE_URL, ['llm', 'providers', 'mistral', 'base_url']],
    [env.MISTRAL_MODEL, ['llm', 'use_cases', 'ocr', 'model']],
    [env.SECRETARY_WEBHOOK_SIGNING_SECRET, ['webhooks', 'signing_secret']],
    [env.LOG_LEVEL, ['log', 'level']],
  ];
  for (const [v, path] of named) if (v) set(path, v);
  if (env.SECRETARY_ALLOW_PRIVATE_URLS)
    set(['security', 'allow_private_urls'], env.SECRETARY_ALLOW_PRIVATE_URLS);
  if (env.MAX_UPLOAD_SIZE_MB) set(['server', 'upload_limit_mb'], env.MAX_UPLOAD_SIZE_MB);
  return out;
};

const coerce = (raw: string): unknown => {
  if (raw === 'true' || raw === '1') return raw === 'true' ? true : 1;
  if (raw === 'false' || raw === '0') return raw === 'false' ? false : 0;
  if (raw === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw.startsWith('{') || raw.startsWith('[')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
};

const deepFreeze = <T>(o: T): T => {
  if (typeof o === 'object' && o !== null) {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
};

/** Booleans given as 1/0 in the environment. */
const normaliseBooleans = (c: Obj, def: Obj): void => {
  for (const [k, d] of Object.entries(def)) {
    if (typeof d === 'boolean' && (c[k] === 1 || c[k] === 0)) c[k] = c[k] === 1;
    else if (isObj(d) && isObj(c[k]) && !Object.keys(MAP_KEYS).some((m) => m.endsWith(`.${k}`))) {
      normaliseBooleans(c[k] as Obj, d);
    }
  }
};

export const loadConfig = (opts: LoadConfigOptions = {}): SecretaryConfig => {
  const env = opts.env ?? process.env;
  const home = resolve(opts.home ?? env.SECRETARY_HOME ?? process.cwd());
  const candidates = [
    opts.configPath,
    env.SECRETARY_CONFIG,
    join(home, 'config', 'config.yaml'),
  ].filter((p): p is string => Boolean(p));
  let fileConf: Obj = {};
  for (const p of candidates) {
    if (!existsSync(p)) {
      if (p === opts.configPath || p === env.SECRETARY_CONFIG)
        throw new ConfigError(`config file not found: ${p}`);
      continue;
    }
    const parsed: unknown = parseYaml(readFileSync(p, 'utf8'));
    if (parsed !== null && parsed !== undefined && !isObj(parsed))
      throw new ConfigError(`config file ${p}: top level must be a mapping`);
    fileConf = (parsed as Obj | null) ?? {};
    break;
  }
  let merged = merge(structuredClone(DEFAULT_CONFIG) as unknown as Obj, fileConf, '');
  merged = merge(merged, fromEnv(env), '');
  merged = merge(merged, structuredClone(opts.overrides ?? {}) as Obj, '');
  merged = structuredClone(merged);
  normaliseBooleans(merged, DEFAULT_CONFIG as unknown as Obj);
  const config = merged as unknown as SecretaryConfig;
  config.paths.home = home;
  config.paths.cache_dir = config.paths.cache_dir
    ? isAbsolute(config.paths.cache_dir)
      ? config.paths.cache_dir
      : join(home, config.paths.cache_dir)
    : join(home, 'cache');
  if (!config.store.url) config.store.url = `sqlite:${join(home, 'data', 'secretary.db')}`;
  if (config.paths.allowed_input_roots.length === 0)
    config.paths.allowed_input_roots = [config.paths.cache_dir];
  if (env.SECRETARY_SERVICE_API_KEY) {
    config.auth.api_keys = [
      ...config.auth.api_keys,
      { key: env.SECRETARY_SERVICE_API_KEY, admin: true },
    ];
  }
  const providers = config.llm.providers as Record<string, LlmProviderConfig>;
  for (const [name, entry] of Object.entries(providers)) {
    if (isObj(entry))
      providers[name] = { ...PROVIDER_DEFAULTS, ...entry, models: { ...(entry.models ?? {}) } };
  }
  check(config, DEFAULT_CONFIG, '');
  for (const [useCase, target] of Object.entries(config.llm.use_cases)) {
    if (!providers[target.provider]) {
      throw new ConfigError(
        `config key llm.use_cases.${useCase}.provider: no provider ${JSON.stringify(target.provider)} in llm.providers (known: ${Object.keys(providers).join(', ')})`,
      );
    }
  }
  // keys only from the environment (never from the file, never logged)
  for (const entry of Object.values(providers)) {
    (entry as { api_key: string | null }).api_key = entry.api_key_env
      ? env[entry.api_key_env] || null
      : null;
  }
  for (const k of config.auth.api_keys) {
    if (!isObj(k) || typeof k.key !== 'string' || k.key.length < 8) {
      throw new ConfigError(
        'config key auth.api_keys: every entry needs a `key` of at least 8 characters',
      );
    }
  }
  if (config.generic_worker.max_concurrent < 1)
    throw new ConfigError('config key generic_worker.max_concurrent: must be at least 1');
  if (config.generic_worker.heartbeat_sec >= config.generic_worker.lease_sec) {
    throw new ConfigError(
      'config key generic_worker.heartbeat_sec: must be shorter than generic_worker.lease_sec',
    );
  }
  return deepFreeze(config);
};
