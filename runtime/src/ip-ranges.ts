/**
 * Address classification for SSRF protection: which IPs an outbound request may never reach unless
 * the operator allows private networks. Pure functions, no DNS.
 */
import { isIP } from 'node:net';

type V4 = [number, number, number, number];

/** IPv4 ranges that are not the public internet. */
const BLOCKED_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function parseV4(s: string): V4 | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out as V4;
}

function v4ToInt(a: V4): number {
  return ((a[0] << 24) >>> 0) + (a[1] << 16) + (a[2] << 8) + a[3];
}

function inV4(addr: V4, base: string, bits: number): boolean {
  const b = parseV4(base)!;
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : (~((1 << (32 - bits)) - 1)) >>> 0;
  return ((v4ToInt(addr) & mask) >>> 0) === ((v4ToInt(b) & mask) >>> 0);
}

/** 8 groups of 16 bits, or null. Accepts `::`, an embedded IPv4 tail and a `%zone`. */
export function parseV6(input: string): number[] | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(':');
  if (lastColon !== -1 && s.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail becomes two hex groups: ::ffff:1.2.3.4 -> ::ffff:102:304.
    const v4 = parseV4(s.slice(lastColon + 1));
    if (!v4) return null;
    s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const total = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (total > 7) return null;
    groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  } else {
    if (total !== 8) return null;
    groups = head;
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return groups;
}

function embeddedV4(g: number[], from: number): V4 {
  return [g[from]! >> 8, g[from]! & 0xff, g[from + 1]! >> 8, g[from + 1]! & 0xff];
}

function classifyV4(a: V4): string | null {
  if (a.every((x) => x === 255)) return 'broadcast';
  for (const [base, bits, why] of BLOCKED_V4) if (inV4(a, base, bits)) return why;
  return null;
}

function classifyV6(g: number[]): string | null {
  const zeroUntil = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUntil(8)) return 'unspecified';
  if (zeroUntil(7) && g[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible): judge the IPv4 address.
  if (zeroUntil(5) && g[5] === 0xffff) return classifyV4(embeddedV4(g, 6)) ?? null;
  if (zeroUntil(6)) return classifyV4(embeddedV4(g, 6)) ?? 'IPv4-compatible';
  // 64:ff9b::/96 NAT64 reaches the embedded IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embeddedV4(g, 6));
  // 2002::/16 6to4 embeds an IPv4 address in bits 16-47.
  if (g[0] === 0x2002) return classifyV4(embeddedV4(g, 1));
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return 'discard-only';
  return null;
}

/**
 * Why an address must not be reached (e.g. "loopback", "private"), or null for a public address.
 * Anything that is not a valid IP is refused.
 */
export function blockedReason(address: string): string | null {
  const family = isIP(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  if (family === 4) return classifyV4(parseV4(address)!);
  if (family === 6) {
    const g = parseV6(address);
    return g ? classifyV6(g) : 'invalid address';
  }
  return 'invalid address';
}

export function isPublicAddress(address: string): boolean {
  return blockedReason(address) === null;
}

/** True when `address` lies in one of the CIDRs (`10.1.2.0/24`, `::1/128`, or a bare address). */
export function inCidrList(address: string, cidrs: readonly string[]): boolean {
  const v4 = parseV4(address);
  const v6 = v4 ? null : parseV6(address);
  for (const cidr of cidrs) {
    const [base, bitsText] = cidr.split('/');
    if (!base) continue;
    const b4 = parseV4(base);
    if (b4 && v4) {
      const bits = bitsText === undefined ? 32 : Number(bitsText);
      if (inV4(v4, base, bits)) return true;
      continue;
    }
    const b6 = b4 ? null : parseV6(base);
    if (b6 && v6) {
      const bits = bitsText === undefined ? 128 : Number(bitsText);
      let ok = true;
      for (let i = 0, left = bits; i < 8 && left > 0; i++, left -= 16) {
        const m = left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff;
        if ((v6[i]! & m) !== (b6[i]! & m)) {
          ok = false;
          break;
        }
      }
      if (ok) return true;
    }
  }
  return false;
}
