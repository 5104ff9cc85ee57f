/**
 * IP address classification for the SSRF guard: which addresses a webhook or download may
 * reach. IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible, NAT64 (`64:ff9b::/96`) and 6to4
 * (`2002::/16`) IPv6 forms are judged by the IPv4 address they carry.
 */
import { BlockList, isIP } from 'node:net';

/** Ranges refused unless allowed: private, loopback, link-local, unspecified, CGNAT, multicast, reserved. */
const BLOCKED_V4: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (incl. cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved / broadcast'],
];

const BLOCKED_V6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

/** Parses an IPv6 text form into 8 groups; null when it is not IPv6. */
const parseV6 = (text: string): number[] | null => {
  const addr = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(addr) !== 6) return null;
  let head = addr;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4?.[1]) {
    const o = v4[1].split('.').map(Number);
    tail.push(((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0));
    head = addr.slice(0, addr.length - v4[1].length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, null];
  const parts = (s: string | undefined): number[] => (s ? s.split(':').filter((x) => x !== '').map((h) => parseInt(h, 16)) : []);
  const l = parts(left);
  const r = [...parts(right ?? undefined), ...tail];
  if (right === null) return [...l, ...tail].length === 8 ? [...l, ...tail] : null;
  const fill = 8 - l.length - r.length;
  return fill < 0 ? null : [...l, ...new Array<number>(fill).fill(0), ...r];
};

const v4FromGroups = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 address embeds (mapped, compatible, NAT64, 6to4), or null. */
export const embeddedIpv4 = (address: string): string | null => {
  const g = parseV6(address);
  if (!g) return null;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zeros5 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeros5 && g5 === 0xffff) return v4FromGroups(g6, g7); // ::ffff:a.b.c.d
  if (zeros5 && g5 === 0 && (g6 !== 0 || g7 > 1)) return v4FromGroups(g6, g7); // ::a.b.c.d (deprecated)
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4FromGroups(g6, g7); // NAT64
  if (g0 === 0x2002) return v4FromGroups(g1, g2); // 6to4
  return null;
};

/** Normalises an address: IPv6 forms that carry an IPv4 address become that IPv4 address. */
export const normaliseAddress = (address: string): { address: string; family: 4 | 6 } | null => {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const fam = isIP(bare);
  if (fam === 4) return { address: bare, family: 4 };
  if (fam !== 6) return null;
  const v4 = embeddedIpv4(bare);
  return v4 ? { address: v4, family: 4 } : { address: bare.toLowerCase(), family: 6 };
};

const blocked = new BlockList();
const reasons: { list: BlockList; reason: string }[] = [];
for (const [net, prefix, reason] of BLOCKED_V4) {
  blocked.addSubnet(net, prefix, 'ipv4');
  const one = new BlockList();
  one.addSubnet(net, prefix, 'ipv4');
  reasons.push({ list: one, reason });
}
for (const [net, prefix, reason] of BLOCKED_V6) {
  blocked.addSubnet(net, prefix, 'ipv6');
  const one = new BlockList();
  one.addSubnet(net, prefix, 'ipv6');
  reasons.push({ list: one, reason });
}

/** Why an address is not public (e.g. `loopback`), or null when it is a public address. */
export const nonPublicReason = (address: string): string | null => {
  const n = normaliseAddress(address);
  if (!n) return 'not an IP address';
  const type = n.family === 4 ? 'ipv4' : 'ipv6';
  if (!blocked.check(n.address, type)) return null;
  return reasons.find((r) => r.list.check(n.address, type))?.reason ?? 'non-public';
};

/** A parsed allowlist: hostnames (exact or `*.suffix`) and CIDRs / single IPs. */
export interface Allowlist {
  hosts: string[];
  nets: BlockList;
  hasNets: boolean;
}

export const parseAllowlist = (entries: readonly string[]): Allowlist => {
  const hosts: string[] = [];
  const nets = new BlockList();
  let hasNets = false;
  for (const raw of entries) {
    const e = raw.trim().toLowerCase();
    if (!e) continue;
    const [addr, prefixText] = e.split('/');
    const n = addr ? normaliseAddress(addr) : null;
    if (n) {
      const max = n.family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (Number.isInteger(prefix) && prefix >= 0 && prefix <= max) {
        nets.addSubnet(n.address, prefix, n.family === 4 ? 'ipv4' : 'ipv6');
        hasNets = true;
      }
    } else {
      hosts.push(e.replace(/\.$/, ''));
    }
  }
  return { hosts, nets, hasNets };
};

export const hostAllowed = (list: Allowlist, hostname: string): boolean => {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return list.hosts.some((e) => (e.startsWith('*.') ? h.endsWith(e.slice(1)) : h === e));
};

export const addressAllowed = (list: Allowlist, address: string): boolean => {
  if (!list.hasNets) return false;
  const n = normaliseAddress(address);
  if (!n) return false;
  return list.nets.check(n.address, n.family === 4 ? 'ipv4' : 'ipv6');
};
