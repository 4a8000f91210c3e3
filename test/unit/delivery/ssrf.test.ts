import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { EMPTY_ALLOW_LIST, checkUrl, classifyAddress, parseAllowList } from "../../../src/delivery/ssrf.js";
import { ALLOWED, REFUSED } from "./ssrf-cases.js";

describe("classifyAddress", () => {
  it.each(REFUSED)("refuses %s", (ip, reason) => {
    const verdict = classifyAddress(ip);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toMatch(reason);
  });

  it.each(ALLOWED)("allows %s", (ip) => {
    expect(classifyAddress(ip)).toEqual({ allowed: true });
  });

  it("lifts refusals for allow-listed ranges only", () => {
    const allow = parseAllowList(["127.0.0.0/8"]);
    expect(classifyAddress("127.0.0.1", allow)).toEqual({ allowed: true });
    expect(classifyAddress("127.9.9.9", allow)).toEqual({ allowed: true });
    expect(classifyAddress("::ffff:127.0.0.1", allow)).toEqual({ allowed: true });
    expect(classifyAddress("10.0.0.1", allow)).toMatchObject({ allowed: false, reason: /private/ });
    expect(classifyAddress("::1", allow)).toMatchObject({ allowed: false, reason: /loopback/ });
  });

  it("never lifts cloud metadata or unreadable addresses, even with everything allowed", () => {
    const all = parseAllowList(["0.0.0.0/0", "::/0"]);
    expect(classifyAddress("10.0.0.1", all)).toEqual({ allowed: true });
    expect(classifyAddress("::1", all)).toEqual({ allowed: true });
    for (const ip of [
      "169.254.169.254",
      "169.254.170.2",
      "100.100.100.200",
      "fd00:ec2::254",
      "::ffff:169.254.169.254",
      "64:ff9b::a9fe:a9fe",
      "fe80::1%eth0",
      "127.1",
    ]) {
      expect([ip, classifyAddress(ip, all).allowed]).toEqual([ip, false]);
    }
  });

  const refusedV4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
  ]
    .concat(["192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24"])
    .concat(["203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"]);
  const inRange = (cidr: string) => {
    const [base, bits] = cidr.split("/") as [string, string];
    const start = base.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    return fc.integer({ min: 0, max: size - 1 }).map((offset) => {
      const n = start + offset;
      return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
    });
  };
  const anyV4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
  const hex = (ip: string) => {
    const [a, b, c, d] = ip.split(".").map(Number) as [number, number, number, number];
    return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  };

  it("refuses every address of every refused IPv4 range", () => {
    fc.assert(
      fc.property(fc.constantFrom(...refusedV4).chain(inRange), (ip) => {
        expect(classifyAddress(ip).allowed).toBe(false);
      }),
    );
  });

  it("judges IPv4-mapped, NAT64 and 6to4 forms exactly like the IPv4 address they carry", () => {
    fc.assert(
      fc.property(anyV4, (ip) => {
        const plain = classifyAddress(ip).allowed;
        expect(classifyAddress(`::ffff:${ip}`).allowed).toBe(plain);
        expect(classifyAddress(`::ffff:${hex(ip)}`).allowed).toBe(plain);
        expect(classifyAddress(`64:ff9b::${hex(ip)}`).allowed).toBe(plain);
        expect(classifyAddress(`2002:${hex(ip)}::1`).allowed).toBe(plain);
      }),
    );
  });

  it("refuses all IPv6 outside 2000::/3", () => {
    const first = fc.oneof(fc.integer({ min: 0, max: 0x1fff }), fc.integer({ min: 0x4000, max: 0xffff }));
    const rest = fc.array(fc.nat(0xffff), { minLength: 7, maxLength: 7 });
    fc.assert(
      fc.property(first, rest, (head, tail) => {
        // Except the forms that carry an IPv4 address, which are judged by that address.
        const mapped = head === 0 && tail.slice(0, 4).every((p) => p === 0) && tail[4] === 0xffff;
        const nat64 = head === 0x64 && tail[0] === 0xff9b && tail.slice(1, 5).every((p) => p === 0);
        fc.pre(!mapped && !nat64);
        const ip = [head, ...tail].map((p) => p.toString(16)).join(":");
        expect(classifyAddress(ip).allowed).toBe(false);
      }),
    );
  });
});

describe("parseAllowList", () => {
  it("reads CIDRs and bare addresses", () => {
    const list = parseAllowList(["127.0.0.0/8", " 10.1.2.3 ", "fd00::/8", "::1"]);
    expect(list.size).toBe(4);
    expect(list.toString()).toBe("127.0.0.0/8,10.1.2.3/32,fd00::/8,::1/128");
    expect(parseAllowList([])).toEqual(EMPTY_ALLOW_LIST);
  });

  it("names every bad entry and what is wrong with it", () => {
    let message = "";
    try {
      parseAllowList(["10.0.0.0/8", "10.0.0/8", "10.0.0.1/8", "::/129", "", "1.2.3.4/08", "example.com/24"]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid destination allow-list: /);
    expect(message).not.toMatch(/entry 0/);
    expect(message).toMatch(/entry 1 "10\.0\.0\/8": "10\.0\.0" is not an IP address/);
    expect(message).toMatch(
      /entry 2 "10\.0\.0\.1\/8": has bits set after the prefix; did you mean 10\.0\.0\.0\/8\?/,
    );
    expect(message).toMatch(/entry 3 "::\/129": prefix length "129" must be a whole number from 0 to 128/);
    expect(message).toMatch(/entry 4 "": is empty/);
    expect(message).toMatch(/entry 5 "1\.2\.3\.4\/08": prefix length "08"/);
    expect(message).toMatch(/entry 6 "example\.com\/24": "example\.com" is not an IP address/);
  });
});

describe("checkUrl", () => {
  it.each([
    ["https://hooks.example.com/x?y=1", "hooks.example.com", 443, false],
    ["http://hooks.example.com/x", "hooks.example.com", 80, false],
    ["https://hooks.example.com:8443/", "hooks.example.com", 8443, false],
    ["https://8.8.8.8/", "8.8.8.8", 443, true],
    ["http://[2606:4700:4700::1111]:8080/", "2606:4700:4700::1111", 8080, true],
  ])("accepts %s", (url, host, port, isIpLiteral) => {
    expect(checkUrl(url)).toMatchObject({ allowed: true, host, port, isIpLiteral });
  });

  it.each([
    ["ftp://example.com/", /scheme "ftp"/],
    ["file:///etc/passwd", /scheme "file"/],
    ["gopher://example.com/", /scheme "gopher"/],
    ["https://user:pw@example.com/", /credentials/],
    ["https://user@example.com/", /credentials/],
    ["not a url", /not a valid URL/],
    ["http://127.0.0.1:8080/", /127\.0\.0\.1 is loopback/],
    ["http://[::1]/", /::1 is loopback/],
    ["http://[::ffff:127.0.0.1]/", /loopback/],
    // The URL parser reads every old IPv4 spelling as dotted decimal; so does the check.
    ["http://2130706433/", /127\.0\.0\.1 is loopback/],
    ["http://0x7f.1/", /127\.0\.0\.1 is loopback/],
    ["http://0177.0.0.1/", /127\.0\.0\.1 is loopback/],
    ["http://169.254.169.254/latest/meta-data/", /metadata/],
  ])("refuses %s", (url, reason) => {
    const verdict = checkUrl(url);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toMatch(reason);
  });

  it("applies the allow-list to IP-literal hosts", () => {
    expect(checkUrl("http://127.0.0.1:8080/", parseAllowList(["127.0.0.1/32"]))).toMatchObject({
      allowed: true,
      host: "127.0.0.1",
      port: 8080,
    });
  });
});
