/**
 * The lookup hook with a fake resolver: nothing here touches DNS or opens a socket.
 */
import type { LookupAddress, LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { describe, expect, it } from "@jest/globals";
import type { buildConnector } from "undici";
import { classify } from "../../../src/delivery/retry-policy.js";
import {
  DestinationRefusedError,
  ERR_DESTINATION_REFUSED,
  type AllowList,
  parseAllowList,
} from "../../../src/delivery/ssrf.js";
import { type Resolver, guardedLookup } from "../../../src/delivery/ssrf-lookup.js";
import { ALLOWED, REFUSED } from "./ssrf-cases.js";

const fam = (address: string): 4 | 6 => (address.includes(":") ? 6 : 4);

/** A DNS stand-in: a fixed table, honouring the family option like dns.lookup does. */
function fakeDns(table: Record<string, string[] | string>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = (
    hostname: string,
    options: { family?: number | string },
    callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ) => {
    calls.push(hostname);
    const entry = table[hostname];
    setImmediate(() => {
      if (entry === undefined || typeof entry === "string") {
        const err: NodeJS.ErrnoException = new Error(`getaddrinfo ${entry ?? "ENOTFOUND"} ${hostname}`);
        err.code = entry ?? "ENOTFOUND";
        callback(err, []);
        return;
      }
      const all = entry.map((address) => ({ address, family: fam(address) }));
      callback(
        null,
        all.filter((a) => !options.family || a.family === options.family),
      );
    });
  };
  return Object.assign(resolver, { calls });
}

const DNS = {
  localhost: ["127.0.0.1", "::1"],
  "metadata.google.internal": ["169.254.169.254"],
  "internal.example": ["10.0.0.5", "fd00::5"],
  "mapped.example": ["::ffff:10.0.0.1"],
  "nat64.example": ["64:ff9b::a9fe:a9fe"],
  "public.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
  "mixed.example": ["10.0.0.1", "93.184.216.34", "fd00::1", "2606:4700:4700::1111"],
  "v6only.example": ["2606:4700:4700::1111"],
  "spelling.example": ["2606:4700:4700:0:0:0:0:1111"],
  "garbage.example": ["not-an-address"],
  "flaky.example": "EAI_AGAIN",
};

interface Result {
  err: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family: number | undefined;
  sync: boolean;
}

function run(lookup: LookupFunction, hostname: string, options: LookupOptions = {}): Promise<Result> {
  return new Promise((resolve) => {
    let returned = false;
    lookup(hostname, options, (err, address, family) => resolve({ err, address, family, sync: !returned }));
    returned = true;
  });
}

const noDns: Resolver = () => {
  throw new Error("the resolver must not be asked about an IP literal");
};

function guarded(allow?: AllowList): LookupFunction {
  return guardedLookup(allow, fakeDns(DNS));
}

describe("guardedLookup", () => {
  it.each(REFUSED.filter(([ip]) => isIP(ip) !== 0))(
    "refuses the IP literal %s without DNS",
    async (ip, reason) => {
      const { err } = await run(guardedLookup(undefined, noDns), ip, { all: true });
      expect(err).toBeInstanceOf(DestinationRefusedError);
      expect(err?.message).toMatch(reason);
    },
  );

  it("leaves old IPv4 spellings to the resolver, and judges what it answers", async () => {
    const libc = fakeDns({ "127.1": ["127.0.0.1"], "0x7f.0.0.1": ["127.0.0.1"] });
    for (const host of ["127.1", "0x7f.0.0.1"]) {
      const { err } = await run(guardedLookup(undefined, libc), host);
      expect(err?.message).toMatch(/127\.0\.0\.1 is loopback/);
    }
    expect(libc.calls).toEqual(["127.1", "0x7f.0.0.1"]);
  });

  it.each([
    "127.0.0.1",
    "::1",
    "169.254.169.254",
    "::ffff:127.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::",
    "fe80::1",
  ])("refuses the IP literal %s (single-address callers too)", async (ip) => {
    const { err, address } = await run(guardedLookup(undefined, noDns), ip);
    expect(err?.code).toBe(ERR_DESTINATION_REFUSED);
    expect(address).toBe("");
  });

  it.each(ALLOWED)("passes the IP literal %s without DNS", async (ip) => {
    const { err, address } = await run(guardedLookup(undefined, noDns), ip, { all: true });
    expect(err).toBeNull();
    expect(address).toHaveLength(1);
  });

  it("strips brackets from an IPv6 literal", async () => {
    const { err, address, family } = await run(guardedLookup(undefined, noDns), "[2606:4700:4700::1111]");
    expect([err, address, family]).toEqual([null, "2606:4700:4700::1111", 6]);
    expect((await run(guardedLookup(undefined, noDns), "[::1]")).err?.code).toBe(ERR_DESTINATION_REFUSED);
  });

  it.each([
    ["localhost", /127\.0\.0\.1 is loopback.*::1 is loopback/],
    ["metadata.google.internal", /169\.254\.169\.254 is cloud metadata service/],
    ["internal.example", /10\.0\.0\.5 is private.*fd00::5 is unique local/],
    ["mapped.example", /::ffff:10\.0\.0\.1 is IPv4-mapped form of 10\.0\.0\.1, which is private/],
    ["nat64.example", /NAT64 form of 169\.254\.169\.254, which is cloud metadata/],
    ["garbage.example", /not-an-address is not an IP address/],
  ])("refuses %s, naming host, addresses and reasons", async (host, reason) => {
    for (const options of [{}, { all: true }]) {
      const { err } = await run(guarded(), host, options);
      expect(err).toBeInstanceOf(DestinationRefusedError);
      expect(err?.code).toBe(ERR_DESTINATION_REFUSED);
      expect(err?.message).toContain(JSON.stringify(host));
      expect(err?.message).toMatch(reason);
      expect((err as DestinationRefusedError).hostname).toBe(host);
      // The dispatcher's retry policy gives up on it at once.
      expect(classify({ kind: "error", code: err!.code!, message: err!.message })).toBe("fail");
    }
  });

  it("hands a single-address caller one checked address and its family", async () => {
    expect(await run(guarded(), "public.example")).toMatchObject({
      err: null,
      address: "93.184.216.34",
      family: 4,
    });
  });

  it("hands an all: true caller (autoSelectFamily) every passing address, as (err, addresses[])", async () => {
    const { err, address, family } = await run(guarded(), "public.example", { all: true });
    expect(err).toBeNull();
    expect(address).toEqual([
      { address: "93.184.216.34", family: 4 },
      { address: "2606:2800:220:1:248:1893:25c8:1946", family: 6 },
    ]);
    expect(family).toBeUndefined();
  });

  it("returns only the passing addresses of a name that mixes public and private ones", async () => {
    expect((await run(guarded(), "mixed.example", { all: true })).address).toEqual([
      { address: "93.184.216.34", family: 4 },
      { address: "2606:4700:4700::1111", family: 6 },
    ]);
    expect(await run(guarded(), "mixed.example")).toMatchObject({
      err: null,
      address: "93.184.216.34",
      family: 4,
    });
    expect(await run(guarded(), "mixed.example", { family: 6 })).toMatchObject({
      address: "2606:4700:4700::1111",
      family: 6,
    });
  });

  it("honours the family option even when the resolver does not", async () => {
    const careless: Resolver = (_host, _options, callback) =>
      callback(null, [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:4700:4700::1111", family: 6 },
      ]);
    const lookup = guardedLookup(undefined, careless);
    expect(await run(lookup, "x.example", { family: 6 })).toMatchObject({ address: "2606:4700:4700::1111" });
    expect(await run(lookup, "x.example", { family: "IPv4" })).toMatchObject({ address: "93.184.216.34" });
  });

  it("asks the resolver for all addresses, passing the caller's options on", async () => {
    let seen: unknown;
    const spy: Resolver = (_host, options, callback) => {
      seen = options;
      callback(null, [{ address: "8.8.8.8", family: 4 }]);
    };
    await run(guardedLookup(undefined, spy), "x.example", { family: 4, hints: 32, order: "ipv4first" });
    expect(seen).toEqual({ family: 4, hints: 32, order: "ipv4first", all: true });
  });

  it("reports an address in its one canonical spelling", async () => {
    expect((await run(guarded(), "spelling.example")).address).toBe("2606:4700:4700::1111");
  });

  it("lets DNS errors through unchanged, so they are retried", async () => {
    const { err } = await run(guarded(), "flaky.example");
    expect(err?.code).toBe("EAI_AGAIN");
    expect(classify({ kind: "error", code: err!.code!, message: err!.message })).toBe("retry");
    expect((await run(guarded(), "nowhere.example", { all: true })).err?.code).toBe("ENOTFOUND");
  });

  it("reports ENOTFOUND when no address of the asked family exists", async () => {
    expect((await run(guarded(), "v6only.example", { family: 4 })).err?.code).toBe("ENOTFOUND");
  });

  it("turns a resolver that throws into an error callback", async () => {
    const broken: Resolver = () => {
      throw Object.assign(new TypeError("bad hostname"), { code: "ERR_INVALID_ARG_TYPE" });
    };
    expect((await run(guardedLookup(undefined, broken), "x.example")).err?.code).toBe("ERR_INVALID_ARG_TYPE");
  });

  it("never calls back synchronously, like dns.lookup", async () => {
    const instant: Resolver = (_host, _options, callback) =>
      callback(null, [{ address: "8.8.8.8", family: 4 }]);
    expect((await run(guardedLookup(undefined, instant), "x.example")).sync).toBe(false);
    expect((await run(guardedLookup(undefined, noDns), "8.8.8.8")).sync).toBe(false);
    expect((await run(guardedLookup(undefined, noDns), "127.0.0.1")).sync).toBe(false);
  });

  describe("with an allow-list", () => {
    const allow = parseAllowList(["127.0.0.0/8"]);

    it("lets 127.0.0.1 through, for loopback test receivers", async () => {
      expect(await run(guardedLookup(allow, noDns), "127.0.0.1")).toMatchObject({
        err: null,
        address: "127.0.0.1",
      });
      expect((await run(guarded(allow), "localhost", { all: true })).address).toEqual([
        { address: "127.0.0.1", family: 4 },
      ]);
    });

    it("still refuses what it does not cover", async () => {
      expect((await run(guardedLookup(allow, noDns), "10.0.0.1")).err?.code).toBe(ERR_DESTINATION_REFUSED);
      expect((await run(guarded(allow), "internal.example")).err?.code).toBe(ERR_DESTINATION_REFUSED);
    });

    it("never lets cloud metadata through", async () => {
      const everything = parseAllowList(["0.0.0.0/0", "::/0"]);
      expect((await run(guarded(everything), "metadata.google.internal")).err?.code).toBe(
        ERR_DESTINATION_REFUSED,
      );
      expect((await run(guarded(everything), "nat64.example")).err?.code).toBe(ERR_DESTINATION_REFUSED);
    });
  });

  it("fits undici's connect options and net.connect's lookup option", () => {
    const lookup = guardedLookup();
    const connect: Partial<buildConnector.BuildOptions> = { lookup };
    expect(connect.lookup).toBe(lookup);
  });
});
