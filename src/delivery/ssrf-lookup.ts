/**
 * The SSRF guard at connect time: a `lookup` hook for net.connect / tls.connect / undici's
 * `connect: { lookup }` that resolves a host name, judges every address with ssrf.ts, and hands
 * the socket only addresses that passed. The socket connects to exactly the address that was
 * checked, so DNS cannot answer differently between the check and the connect (rebinding).
 *
 * A name that resolves to both allowed and refused addresses yields only the allowed ones: the
 * refused ones are never connected to, and the delivery still works for dual-stack receivers
 * that also publish an internal address. Only when none pass does the lookup fail, with a
 * DestinationRefusedError (code ERR_DESTINATION_REFUSED).
 *
 * Node skips the hook for IP-literal hosts: callers must check those with checkUrl first.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import {
  type AllowList,
  DestinationRefusedError,
  EMPTY_ALLOW_LIST,
  canonical,
  classifyAddress,
  parseAddress,
} from "./ssrf.js";

/** dns.lookup with `all: true`; tests pass a fake one. */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

export function guardedLookup(
  allowList: AllowList = EMPTY_ALLOW_LIST,
  resolver: Resolver = systemResolver,
): LookupFunction {
  return (hostname, options, callback) => {
    // Node passes IPv6 literals without brackets, but other callers may not.
    const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
    const family = familyOf(options.family);
    // Node's own lookup never calls back synchronously; callers may rely on that.
    const reply = (err: NodeJS.ErrnoException | null, found: LookupAddress[]): void =>
      process.nextTick(() => deliver(callback, options, err, found));

    const literal = isIP(host);
    if (literal !== 0) {
      // An address needs no DNS; judging it here keeps the hook safe even if Node starts calling it.
      reply(...judge(host, [{ address: host, family: literal }], family, allowList));
      return;
    }
    try {
      resolver(host, { ...options, all: true, family }, (err, addresses) => {
        if (err) reply(err, []);
        else reply(...judge(host, addresses, family, allowList));
      });
    } catch (err) {
      // dns.lookup throws on bad arguments instead of calling back.
      reply(err as NodeJS.ErrnoException, []);
    }
  };
}

function familyOf(family: LookupOptions["family"]): 0 | 4 | 6 {
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  return 0;
}

/** The addresses that pass, in the resolver's order and canonical spelling, or the refusal. */
function judge(
  host: string,
  addresses: readonly LookupAddress[],
  family: 0 | 4 | 6,
  allowList: AllowList,
): [NodeJS.ErrnoException | null, LookupAddress[]] {
  const passed: LookupAddress[] = [];
  const refusals: { address: string; reason: string }[] = [];
  for (const { address } of addresses) {
    const parsed = parseAddress(address);
    const addrFamily = parsed?.kind() === "ipv4" ? 4 : 6;
    // A resolver that ignores the family hint must not hand an IPv6 socket an IPv4 address.
    if (parsed && family !== 0 && addrFamily !== family) continue;
    const verdict = classifyAddress(address, allowList);
    if (verdict.allowed && parsed) passed.push({ address: canonical(parsed), family: addrFamily });
    else refusals.push({ address, reason: verdict.allowed ? "not an IP address" : verdict.reason });
  }
  if (passed.length > 0) return [null, passed];
  if (refusals.length > 0) return [new DestinationRefusedError(host, refusals), []];
  const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
  notFound.code = "ENOTFOUND";
  return [notFound, []];
}

function deliver(
  callback: Parameters<LookupFunction>[2],
  options: LookupOptions,
  err: NodeJS.ErrnoException | null,
  found: LookupAddress[],
): void {
  // With `all: true` (Node 20's autoSelectFamily asks for it) the callback takes the whole list.
  if (options.all === true) {
    callback(err, err ? [] : found);
    return;
  }
  const first = found[0];
  if (err || !first) callback(err, "", 0);
  else callback(null, first.address, first.family);
}
