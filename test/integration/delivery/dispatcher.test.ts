import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { HttpNotifier } from "../../../src/delivery/dispatcher.js";
import { parseAllowList } from "../../../src/delivery/ssrf.js";
import { Receiver } from "../helpers/receiver.js";

/** The dispatcher with real sockets against a real loopback receiver (no fakes). */
describe("HTTP dispatcher against a real receiver", () => {
  const r = new Receiver();
  beforeAll(async () => {
    await r.start();
  });
  afterAll(async () => {
    await r.stop();
  });
  const body = new TextEncoder().encode('{"hello":"world"}');
  const send = (n: HttpNotifier, url: string, timeoutMs = 2000) =>
    n.send({ url, headers: { "content-type": "application/json" }, body, timeoutMs });

  it("refuses loopback by default, before any connection is made", async () => {
    const n = new HttpNotifier({ allowList: parseAllowList([]) });
    const before = r.received.length;
    for (const url of [
      r.url(),
      `http://localhost:${r.port}/hook`,
      `http://[::ffff:127.0.0.1]:${r.port}/hook`,
    ]) {
      const res = await send(n, url);
      expect(res).toMatchObject({ kind: "error", code: "ERR_DESTINATION_REFUSED" });
    }
    expect(r.received.length).toBe(before);
    await n.close();
  });

  it("delivers to loopback when the allow-list covers it, by IP and by host name", async () => {
    const n = new HttpNotifier({ allowList: parseAllowList(["127.0.0.0/8"]) });
    expect(await send(n, r.url())).toMatchObject({ kind: "response", status: 204 });
    expect(await send(n, `http://localhost:${r.port}/hook`)).toMatchObject({ kind: "response", status: 204 });
    expect(r.received.at(-1)?.body.toString()).toBe('{"hello":"world"}');
    await n.close();
  });

  it("does not follow redirects, reports Retry-After, and times out slow endpoints", async () => {
    const n = new HttpNotifier({ allowList: parseAllowList(["127.0.0.0/8"]) });
    r.behaviour = (_req, res) => void res.writeHead(302, { location: "http://169.254.169.254/" }).end();
    expect(await send(n, r.url())).toMatchObject({ kind: "response", status: 302 });
    r.behaviour = (_req, res) => void res.writeHead(429, { "retry-after": "7" }).end();
    expect(await send(n, r.url())).toMatchObject({ kind: "response", status: 429, retryAfter: "7" });
    r.behaviour = (_req, res) => void setTimeout(() => res.writeHead(200).end(), 3000);
    const slow = await send(n, r.url(), 300);
    expect(slow).toMatchObject({ kind: "error", code: "ETIMEDOUT" });
    expect(slow.durationMs).toBeLessThan(1500);
    r.behaviour = (_req, res) => void res.writeHead(200).end("x".repeat(1024 * 1024));
    expect(await send(n, r.url())).toMatchObject({ kind: "response", status: 200 });
    r.behaviour = (_req, res) => void res.writeHead(204).end();
    await n.close();
  });

  it("reads Retry-After whatever its case, and cuts off a response body that never ends", async () => {
    const n = new HttpNotifier({ allowList: parseAllowList(["127.0.0.0/8"]), maxResponseBytes: 4096 });
    r.behaviour = (_req, res) => void res.writeHead(503, { "Retry-After": "12" }).end();
    expect(await send(n, r.url())).toMatchObject({ kind: "response", status: 503, retryAfter: "12" });
    let timer: NodeJS.Timeout | undefined;
    r.behaviour = (_req, res) => {
      res.writeHead(200);
      timer = setInterval(() => res.write("y".repeat(1024)), 5);
      res.on("close", () => clearInterval(timer));
    };
    const endless = await send(n, r.url(), 5000);
    clearInterval(timer);
    expect(endless).toMatchObject({ kind: "response", status: 200 });
    expect(endless.durationMs).toBeLessThan(2000);
    r.behaviour = (_req, res) => void res.writeHead(204).end();
    expect(await send(n, r.url())).toMatchObject({ kind: "response", status: 204 });
    await n.close();
  });

  it("reports a refused connection as a retryable error", async () => {
    const n = new HttpNotifier({ allowList: parseAllowList(["127.0.0.0/8"]) });
    const res = await send(n, "http://127.0.0.1:9/hook");
    expect(res).toMatchObject({ kind: "error", code: "ECONNREFUSED" });
    await n.close();
  });
});
