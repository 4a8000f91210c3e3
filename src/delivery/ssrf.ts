/**
 * The SSRF guard's rules: which addresses a webhook may be delivered to.
 *
 * Anyone who can create a WebhookSubscription chooses where the operator sends requests from
 * inside the cluster, so the default is to refuse everything that is not a public unicast
 * address: the cluster network, the node, the cloud's metadata service. The operator's
 * configuration can lift refusals for chosen ranges (an AllowList), except for cloud metadata
 * services, which hold the node's credentials and are never a webhook receiver.
 *
 * Pure: no DNS here. src/delivery/ssrf-lookup.ts applies these rules to what DNS returns.
 */
import ipaddr from "ipaddr.js";

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
type Address = IPv4 | IPv6;

/** The `code` of every error that refuses a destination; retrying such a delivery cannot help. */
export const ERR_DESTINATION_REFUSED = "ERR_DESTINATION_REFUSED";

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** Why a delivery was not even attempted: every address of the destination was refused. */
export class DestinationRefusedError extends Error {
  readonly code = ERR_DESTINATION_REFUSED;

  constructor(
    readonly hostname: string,
    readonly refusals: readonly { address: string; reason: string }[],
  ) {
    const why = refusals.map((r) => `${r.address} is ${r.reason}`).join("; ");
    super(`destination ${JSON.stringify(hostname)} refused: ${why}`);
    this.name = "DestinationRefusedError";
  }
}

interface Refusal {
  reason: string;
  /** False for cloud metadata and unreadable addresses: no allow-list entry lifts these. */
  liftable: boolean;
}

interface Rule {
  range: [Address, number];
  cidr: string;
  reason: string;
  liftable: boolean;
  /** For IPv6 ranges that carry an IPv4 address: where it is, and how to name the wrapping. */
  embedded?: { via: string; at: (a: IPv6) => IPv4 };
}

function rule(cidr: string, reason: string, liftable = true, embedded?: Rule["embedded"]): Rule {
  return { range: ipaddr.parseCIDR(cidr), cidr, reason, liftable, ...(embedded ? { embedded } : {}) };
}

const METADATA = "cloud metadata service";

// First match wins, so the specific entries come before the ranges that contain them.
const IPV4_RULES: readonly Rule[] = [
  rule("169.254.169.254/32", `${METADATA} of AWS, GCP, Azure, OpenStack and others`, false),
  rule("169.254.170.2/32", `${METADATA} of AWS ECS (task credentials)`, false),
  rule("169.254.170.23/32", `${METADATA} of AWS EKS (Pod Identity)`, false),
  rule("100.100.100.200/32", `${METADATA} of Alibaba Cloud`, false),
  rule("0.0.0.0/8", 'unspecified, "this network"'),
  rule("10.0.0.0/8", "private"),
  rule("172.16.0.0/12", "private"),
  rule("192.168.0.0/16", "private"),
  rule("100.64.0.0/10", "carrier-grade NAT shared space"),
  rule("127.0.0.0/8", "loopback"),
  rule("169.254.0.0/16", "link-local"),
  rule("192.0.0.0/24", "IETF protocol assignments"),
  rule("192.0.2.0/24", "documentation, TEST-NET-1"),
  rule("198.51.100.0/24", "documentation, TEST-NET-2"),
  rule("203.0.113.0/24", "documentation, TEST-NET-3"),
  rule("192.88.99.0/24", "deprecated 6to4 relay anycast"),
  rule("198.18.0.0/15", "benchmarking"),
  rule("224.0.0.0/4", "multicast"),
  rule("255.255.255.255/32", "broadcast"),
  rule("240.0.0.0/4", "reserved"),
];

// Where IPv4-mapped and NAT64 (last 32 bits) and 6to4 (bits 16..47) addresses carry the IPv4 one.
const lastFour = (a: IPv6): IPv4 => new ipaddr.IPv4(a.toByteArray().slice(12, 16));
const sixToFour = (a: IPv6): IPv4 => new ipaddr.IPv4(a.toByteArray().slice(2, 6));

const IPV6_RULES: readonly Rule[] = [
  rule("fd00:ec2::254/128", `${METADATA} of AWS (IPv6)`, false),
  rule("fd00:ec2::23/128", `${METADATA} of AWS EKS (Pod Identity, IPv6)`, false),
  rule("::/128", "unspecified"),
  rule("::1/128", "loopback"),
  // The kernel connects to the embedded IPv4 address itself, so judge that address.
  rule("::ffff:0:0/96", "", true, { via: "IPv4-mapped", at: lastFour }),
  // A NAT64 gateway forwards to the embedded IPv4 address: same destination, same rules.
  rule("64:ff9b::/96", "", true, { via: "NAT64", at: lastFour }),
  rule("64:ff9b:1::/48", "local-use NAT64, RFC 8215"),
  rule("::/96", "deprecated IPv4-compatible address"),
  rule("::ffff:0:0:0/96", "IPv4-translated, RFC 6145"),
  // Teredo tunnels through a relay to an obfuscated IPv4 address that cannot be judged reliably.
  rule("2001::/32", "Teredo tunnel"),
  rule("2001:2::/48", "benchmarking"),
  rule("2001:db8::/32", "documentation"),
  rule("3fff::/20", "documentation"),
  rule("2001::/23", "IETF protocol assignments"),
  rule("2002::/16", "", true, { via: "6to4", at: sixToFour }),
  rule("fc00::/7", "unique local, private"),
  rule("fe80::/10", "link-local"),
  rule("fec0::/10", "deprecated site-local"),
  rule("ff00::/8", "multicast"),
];

// Everything public in IPv6 lies in 2000::/3; the rest is unassigned or special.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

function describe(r: Rule): string {
  return `${r.reason} (${r.cidr})`;
}

function refusalOf(addr: Address): Refusal | undefined {
  if (addr.kind() === "ipv6" && (addr as IPv6).zoneId !== undefined) {
    return { reason: "a scoped address with a zone id", liftable: false };
  }
  const rules = addr.kind() === "ipv4" ? IPV4_RULES : IPV6_RULES;
  for (const r of rules) {
    if (r.range[0].kind() !== addr.kind() || !addr.match(r.range)) continue;
    if (!r.embedded) return { reason: describe(r), liftable: r.liftable };
    const inner = r.embedded.at(addr as IPv6);
    const refusal = refusalOf(inner);
    if (!refusal) return undefined;
    return {
      reason: `${r.embedded.via} form of ${inner.toString()}, which is ${refusal.reason}`,
      liftable: refusal.liftable,
    };
  }
  if (addr.kind() === "ipv6" && !addr.match(GLOBAL_UNICAST_V6)) {
    return { reason: "not global unicast (outside 2000::/3)", liftable: true };
  }
  // A backstop for special-purpose ranges ipaddr.js knows and the tables above do not name.
  const range = addr.range();
  if (range !== "unicast") return { reason: `special-purpose range (${range})`, liftable: true };
  return undefined;
}

/** The IPv4 address the kernel or a translator would really connect to, if `addr` embeds one. */
function embeddedIPv4(addr: Address): IPv4 | undefined {
  if (addr.kind() !== "ipv6") return undefined;
  for (const r of IPV6_RULES) {
    if (r.embedded && addr.match(r.range)) return r.embedded.at(addr as IPv6);
  }
  return undefined;
}

/**
 * Parses an address the way connect() will see it. IPv4 must be four plain decimal numbers:
 * "127.1", "0x7f.0.0.1" and "0177.0.0.1" are refused rather than guessed at, so no other
 * component can read the same text as a different address.
 */
export function parseAddress(text: string): Address | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

/** The one spelling of `addr` that is handed to connect(). */
export function canonical(addr: Address): string {
  return addr.kind() === "ipv4" ? addr.toString() : (addr as IPv6).toRFC5952String();
}

/** Ranges the operator allows despite the default refusals (but never cloud metadata). */
export class AllowList {
  constructor(private readonly ranges: readonly (readonly [Address, number])[]) {}

  get size(): number {
    return this.ranges.length;
  }

  contains(addr: Address): boolean {
    return this.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
  }

  toString(): string {
    return this.ranges.map(([net, bits]) => `${canonical(net)}/${bits}`).join(",");
  }
}

export const EMPTY_ALLOW_LIST = new AllowList([]);

const PREFIX = /^(0|[1-9]\d{0,2})$/;

/**
 * Reads the operator's allow-list: CIDRs such as "10.0.0.0/8" or "fd00::/8"; a bare address
 * means just that address. Throws one Error naming every bad entry and what is wrong with it.
 */
export function parseAllowList(cidrs: readonly string[]): AllowList {
  const ranges: [Address, number][] = [];
  const errors: string[] = [];
  cidrs.forEach((entry, index) => {
    const parsed = parseCidr(entry.trim());
    if (typeof parsed === "string") errors.push(`entry ${index} ${JSON.stringify(entry)}: ${parsed}`);
    else ranges.push(parsed);
  });
  if (errors.length > 0) throw new Error(`invalid destination allow-list: ${errors.join("; ")}`);
  return new AllowList(ranges);
}

function parseCidr(text: string): [Address, number] | string {
  if (text === "") return "is empty";
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr) {
    return `${JSON.stringify(addrText)} is not an IP address (IPv4 as four decimal numbers such as 10.0.0.0, or IPv6 such as fd00::)`;
  }
  if (addr.kind() === "ipv6" && (addr as IPv6).zoneId !== undefined) return "must not have a zone id";
  const max = addr.kind() === "ipv4" ? 32 : 128;
  if (slash < 0) return [addr, max];
  const prefixText = text.slice(slash + 1);
  if (!PREFIX.test(prefixText) || Number(prefixText) > max) {
    return `prefix length ${JSON.stringify(prefixText)} must be a whole number from 0 to ${max}`;
  }
  const bits = Number(prefixText);
  const cidr = `${canonical(addr)}/${bits}`;
  const base =
    addr.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
      : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  // "10.0.0.1/8" usually means a typo or a misunderstanding; say which network it would be.
  if (canonical(base) !== canonical(addr)) {
    return `has bits set after the prefix; did you mean ${canonical(base)}/${bits}?`;
  }
  return [addr, bits];
}

/**
 * May a delivery connect to this address? Refuses everything that is not public unicast (see
 * the tables above), unless `allowList` covers the address, or the IPv4 address it embeds.
 */
export function classifyAddress(ip: string, allowList: AllowList = EMPTY_ALLOW_LIST): AddressVerdict {
  const addr = parseAddress(ip);
  if (!addr) return { allowed: false, reason: "not an IP address" };
  const refusal = refusalOf(addr);
  if (!refusal) return { allowed: true };
  if (refusal.liftable) {
    const inner = embeddedIPv4(addr);
    if (allowList.contains(addr) || (inner && allowList.contains(inner))) return { allowed: true };
  }
  return { allowed: false, reason: refusal.reason };
}

export type UrlVerdict =
  | { allowed: true; protocol: "http:" | "https:"; host: string; port: number; isIpLiteral: boolean }
  | { allowed: false; reason: string };

const DEFAULT_PORTS = { "http:": 80, "https:": 443 } as const;

/**
 * Checks an endpoint URL before any connection: http or https only, no credentials in it, and
 * an IP-literal host must pass classifyAddress here, because Node's net.connect does not call
 * the `lookup` hook for IP literals. Host names are judged later, on what DNS returns.
 * `host` has no brackets, as net.connect wants it.
 */
export function checkUrl(url: string, allowList: AllowList = EMPTY_ALLOW_LIST): UrlVerdict {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { allowed: false, reason: "is not a valid URL" };
  }
  const protocol = parsed.protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    return { allowed: false, reason: `scheme ${JSON.stringify(protocol.slice(0, -1))} is not http or https` };
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return {
      allowed: false,
      reason: "contains credentials (user:password@); use spec.endpoint.auth instead",
    };
  }
  const bracketed = parsed.hostname.startsWith("[") && parsed.hostname.endsWith("]");
  const host = bracketed ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (host === "") return { allowed: false, reason: "has no host" };
  const port = parsed.port === "" ? DEFAULT_PORTS[protocol] : Number(parsed.port);
  // The URL parser has already turned every IPv4 spelling ("0x7f.1", "2130706433") into dotted decimal.
  const isIpLiteral = bracketed || ipaddr.IPv4.isValidFourPartDecimal(host);
  if (isIpLiteral) {
    const verdict = classifyAddress(host, allowList);
    if (!verdict.allowed) return { allowed: false, reason: `address ${host} is ${verdict.reason}` };
  }
  return { allowed: true, protocol, host, port, isIpLiteral };
}
