import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses an outbound fetch of a URL that a client supplies may connect to (SECURITY.md: client
 * metadata documents and, later, jwks_uri and back-channel logout). Anything but a public unicast address
 * is refused, so that a client_id URL cannot make Authly reach its own network (SSRF). The ranges are
 * IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates); for IPv6 only global
 * unicast (2000::/3, RFC 4291 section 2.4) is allowed, minus the special ranges inside it. An IPv4 address
 * written as IPv6 (mapped ::ffff:a.b.c.d, RFC 4291 section 2.5.5.2) is judged as the IPv4 address it names.
 */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link_local'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'translation'
  | 'reserved'
  | 'invalid';

type Range = readonly [prefix: string, length: number, kind: Exclude<AddressClass, 'public' | 'invalid'>];

const IPV4_RANGES: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified'], // "this network" (RFC 791); 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8, 'private'], // RFC 1918
  ['100.64.0.0', 10, 'shared'], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8, 'loopback'], // RFC 1122
  ['169.254.0.0', 16, 'link_local'], // RFC 3927; cloud metadata services live here
  ['172.16.0.0', 12, 'private'], // RFC 1918
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments (RFC 6890)
  ['192.0.2.0', 24, 'documentation'], // TEST-NET-1 (RFC 5737)
  ['192.31.196.0', 24, 'reserved'], // AS112-v4 (RFC 7535)
  ['192.52.193.0', 24, 'reserved'], // AMT (RFC 7450)
  ['192.88.99.0', 24, 'translation'], // 6to4 relay anycast (RFC 7526)
  ['192.168.0.0', 16, 'private'], // RFC 1918
  ['192.175.48.0', 24, 'reserved'], // direct delegation AS112 (RFC 7534)
  ['198.18.0.0', 15, 'benchmarking'], // RFC 2544
  ['198.51.100.0', 24, 'documentation'], // TEST-NET-2 (RFC 5737)
  ['203.0.113.0', 24, 'documentation'], // TEST-NET-3 (RFC 5737)
  ['224.0.0.0', 4, 'multicast'], // RFC 5771
  ['255.255.255.255', 32, 'broadcast'], // RFC 919; before 240/4 so it is named as what it is
  ['240.0.0.0', 4, 'reserved'], // RFC 1112
];

const IPV6_RANGES: readonly Range[] = [
  ['::', 128, 'unspecified'], // RFC 4291
  ['::1', 128, 'loopback'], // RFC 4291
  ['64:ff9b::', 96, 'translation'], // NAT64 well-known prefix (RFC 6052): reaches any IPv4 address, private ones too
  ['64:ff9b:1::', 48, 'translation'], // local-use NAT64 (RFC 8215)
  ['100::', 64, 'reserved'], // discard-only (RFC 6666)
  ['2001:db8::', 32, 'documentation'], // RFC 3849
  ['2001::', 23, 'reserved'], // IETF protocol assignments: Teredo, benchmarking, ORCHID (RFC 2928, 4380, 5180)
  ['2002::', 16, 'translation'], // 6to4 (RFC 3056): embeds an IPv4 address
  ['3fff::', 20, 'documentation'], // RFC 9637
  ['5f00::', 16, 'reserved'], // SRv6 SIDs (RFC 9602)
  ['fc00::', 7, 'private'], // unique local (RFC 4193)
  ['fe80::', 10, 'link_local'], // RFC 4291
  ['fec0::', 10, 'private'], // site-local, deprecated (RFC 3879)
  ['ff00::', 8, 'multicast'], // RFC 4291
];

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address (node validated it): a trailing dotted quad becomes two groups, "::" is expanded. */
function ipv6Bytes(address: string): number[] {
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const [head, tail] = text.split('::') as [string, string | undefined];
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const words = [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function inRange(bytes: readonly number[], prefix: readonly number[], length: number): boolean {
  for (let bit = 0; bit < length; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((bytes[bit >> 3]! & mask) !== (prefix[bit >> 3]! & mask)) return false;
  }
  return true;
}

const V4 = IPV4_RANGES.map(([prefix, length, kind]) => ({ bytes: ipv4Bytes(prefix), length, kind }));
const V6 = IPV6_RANGES.map(([prefix, length, kind]) => ({ bytes: ipv6Bytes(prefix), length, kind }));

function classifyV4(bytes: readonly number[]): AddressClass {
  return V4.find((r) => inRange(bytes, r.bytes, r.length))?.kind ?? 'public';
}

/** The class of an IP address literal (an IPv6 zone, "%eth0", is ignored; it only occurs on link-local). */
export function classifyAddress(address: string): AddressClass {
  const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(plain)) return classifyV4(ipv4Bytes(plain));
  if (!isIPv6(plain)) return 'invalid';
  const bytes = ipv6Bytes(plain.toLowerCase());
  // ::ffff:0:0/96 (mapped) and ::ffff:0:0:0/96 (translated, RFC 2765): the IPv4 address decides.
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  const translated = bytes.slice(0, 8).every((b) => b === 0) && bytes[8] === 0xff && bytes[9] === 0xff && bytes[10] === 0 && bytes[11] === 0;
  if (mapped || translated) return classifyV4(bytes.slice(12));
  const special = V6.find((r) => inRange(bytes, r.bytes, r.length));
  if (special) return special.kind;
  // Outside global unicast 2000::/3: IPv4-compatible ::/96 and the rest of the unassigned space.
  return (bytes[0]! & 0xe0) === 0x20 ? 'public' : 'reserved';
}

/** True for 127.0.0.0/8 and ::1 (also written as mapped IPv4). */
export function isLoopbackAddress(address: string): boolean {
  return classifyAddress(address) === 'loopback';
}
