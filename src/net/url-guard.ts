/**
 * The SSRF guard for every URL the service calls: webhooks and document downloads.
 *
 * - only `http:` and `https:`;
 * - the host is resolved (DNS) and EVERY address it resolves to must be public: private
 *   (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), loopback (127/8, ::1), link-local
 *   (169.254/16 incl. cloud metadata, fe80::/10), unspecified (0.0.0.0, ::), multicast and
 *   reserved ranges, and the IPv4-mapped IPv6 forms of these are refused;
 * - unless `allowPrivate` (config `security.allow_private_urls`, env
 *   `SECRETARY_ALLOW_PRIVATE_URLS=1`) or the allowlist (`security.url_allowlist`: hostnames,
 *   `*.suffix` wildcards, CIDRs or single IPs) permits it;
 * - the request then connects to the address that was checked: `CheckedUrl.lookup` is a
 *   `lookup` function for `http.request` that always answers with the vetted address, so
 *   a second DNS answer (DNS rebinding) can never redirect the connection.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { SecretaryError } from '../core/errors.js';
import { addressAllowed, hostAllowed, nonPublicReason, parseAllowlist, type Allowlist } from './ip-ranges.js';

export interface GuardOptions {
  /** Allow every address (local development, tests). Default false. */
  allowPrivate: boolean;
  /** Hostnames (`cks.internal`, `*.lan`) or CIDRs (`10.0.0.0/8`) allowed although non-public. */
  allowlist?: readonly string[];
  /** DNS resolver (default `dns.promises.lookup` with `all: true`); for tests. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The shape `http.request({lookup})` calls. */
export type LookupFunction = (hostname: string, options: { all?: boolean } | number, callback: LookupCallback) => void;

export interface CheckedUrl {
  url: URL;
  /** The first vetted address (the request connects only to vetted addresses). */
  address: string;
  family: 4 | 6;
  /** Pass to `http.request` / `https.request` as `lookup`. */
  lookup: LookupFunction;
}

const allowlists = new WeakMap<readonly string[], Allowlist>();
const allowlistOf = (opts: GuardOptions): Allowlist => {
  const entries = opts.allowlist ?? [];
  let list = allowlists.get(entries);
  if (!list) {
    list = parseAllowlist(entries);
    allowlists.set(entries, list);
  }
  return list;
};

const refuse = (url: string, why: string): SecretaryError =>
  new SecretaryError('URL_NOT_ALLOWED', `URL not allowed: ${why} (${safeUrlText(url)}); set security.url_allowlist or SECRETARY_ALLOW_PRIVATE_URLS=1 to permit it`);

/** A URL without credentials, query and fragment, for messages and logs. */
export const safeUrlText = (url: string | URL): string => {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
};

const parse = (raw: string): URL => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SecretaryError('URL_NOT_ALLOWED', 'URL not allowed: not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse(raw, `scheme ${url.protocol.replace(/:$/, '')} is not http(s)`);
  }
  if (!url.hostname) throw refuse(raw, 'no host');
  return url;
};

const bareHost = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

/** Checks one resolved address against the policy; returns the refusal reason or null. */
const addressProblem = (address: string, hostname: string, opts: GuardOptions): string | null => {
  if (opts.allowPrivate) return null;
  const reason = nonPublicReason(address);
  if (!reason) return null;
  const list = allowlistOf(opts);
  if (hostAllowed(list, hostname) || addressAllowed(list, address)) return null;
  return `${hostname === address ? address : `${hostname} resolves to ${address}`} is ${reason}`;
};

/**
 * Enqueue-time check of a webhook URL (no DNS): syntax, http(s), and literal IPs or
 * `localhost` names that are never public. Throws `URL_NOT_ALLOWED`; returns the normalised URL.
 */
export const validateWebhookUrl = (raw: string, opts: GuardOptions): string => {
  if (typeof raw !== 'string' || raw.length > 2048) throw new SecretaryError('URL_NOT_ALLOWED', 'URL not allowed: must be a string of at most 2048 characters');
  const url = parse(raw);
  if (url.username || url.password) throw refuse(raw, 'credentials in the URL are not allowed (use webhook.token or headers)');
  const host = bareHost(url);
  if (opts.allowPrivate) return url.toString();
  if (isIP(host)) {
    const p = addressProblem(host, host, opts);
    if (p) throw refuse(raw, p);
  } else if (/(^|\.)localhost$/i.test(host.replace(/\.$/, '')) && !hostAllowed(allowlistOf(opts), host)) {
    throw refuse(raw, `${host} is loopback`);
  }
  return url.toString();
};

const defaultResolve = (hostname: string): Promise<LookupAddress[]> => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Full check before a request: resolves the host and vets every address. Throws
 * `URL_NOT_ALLOWED` when refused; DNS failures are thrown as they come (code `ENOTFOUND`,
 * `EAI_AGAIN`, …) so callers can treat them as "not delivered".
 */
export const checkUrl = async (raw: string, opts: GuardOptions): Promise<CheckedUrl> => {
  const url = parse(raw);
  const host = bareHost(url);
  let addresses: LookupAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else addresses = await (opts.resolve ?? defaultResolve)(host);
  if (addresses.length === 0) {
    throw Object.assign(new Error(`DNS lookup of ${host} returned no address`), { code: 'ENOTFOUND' });
  }
  for (const a of addresses) {
    const p = addressProblem(a.address, host, opts);
    if (p) throw refuse(raw, p);
  }
  const vetted = addresses.map((a) => ({ address: a.address, family: isIP(a.address) === 6 ? 6 : 4 }) as const);
  const first = vetted[0] as { address: string; family: 4 | 6 };
  const family = first.family;
  // only vetted addresses, whatever the hostname asked for (no second DNS answer is used)
  const lookup: LookupFunction = (_hostname, options, callback) => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    if (all) callback(null, vetted.map((a) => ({ ...a })));
    else callback(null, first.address, family);
  };
  return { url, address: first.address, family, lookup };
};
