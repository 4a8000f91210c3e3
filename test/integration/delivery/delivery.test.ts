import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { Webhook } from "standardwebhooks";
import type { RunningOperator } from "../../../src/run.js";
import type { WebhookSubscriptionSpec } from "../../../src/api/types.js";
import { KubeHelper } from "../helpers/kube.js";
import { natsClient, publish, streamNames } from "../helpers/nats.js";
import { startTestOperator } from "../helpers/operator.js";
import { Receiver } from "../helpers/receiver.js";
import { waitFor } from "../helpers/wait.js";

/** One operator, one namespace and one stream for the whole file; each test uses its own subjects. */
describe("delivery pipeline: JetStream in, signed webhooks out", () => {
  const k = new KubeHelper();
  const names = streamNames("dlv");
  let ns: string;
  let op: RunningOperator;
  let nc: NatsConnection;
  let js: JetStreamClient;
  const receivers: Receiver[] = [];

  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };
  const subject = (s: string) => `${names.base}.${s}`;
  const spec = (
    url: string,
    subjects: string[],
    extra: Partial<WebhookSubscriptionSpec> = {},
  ): WebhookSubscriptionSpec => ({
    subjects: subjects.map(subject),
    endpoint: { url },
    signing: { secretRef: { name: "hook-secret" } },
    ...extra,
  });
  const ready = (name: string) =>
    waitFor(`${name} Ready`, async () => (await k.ready(ns, name)).status === "True", 10_000);
  const routed = (name: string) =>
    waitFor(`${name} routed`, () => op.controller.table.current().get(`${ns}/${name}`) !== undefined, 10_000);

  let secret: string;
  beforeAll(async () => {
    ns = await k.namespace("dlv");
    op = await startTestOperator({
      namespaces: [ns],
      streams: names,
      args: ["--status-interval", "1s", "--handoff-after", "1s", "--max-event-bytes", "65536"],
    });
    await waitFor("leadership", () => op.isLeader(), 15_000);
    ({ nc, js } = await natsClient());
    secret = await k.signingSecret(ns, "hook-secret");
  });
  afterAll(async () => {
    await op?.stop();
    await nc?.close();
    for (const r of receivers) await r.stop();
  });

  it("delivers every event signed, verifiable by the standardwebhooks library, with the documented headers", async () => {
    const r = await receiver();
    await k.createSubscription(
      ns,
      "signed",
      spec(r.url(), ["orders.*"], {
        endpoint: { url: r.url(), headers: { "X-Team": "fulfillment", "User-Agent": "acme-hooks/1" } },
      }),
    );
    await ready("signed");
    for (let i = 0; i < 20; i++)
      await publish(js, subject(`orders.created`), { i, total: 10 * i }, `signed-${i}`, {
        "Content-Type": "application/json",
      });
    await waitFor("20 deliveries", () => r.received.length >= 20);
    const wh = new Webhook(secret);
    for (const req of r.received) {
      expect(() => wh.verify(req.body.toString(), req.headers)).not.toThrow();
      expect(req.headers["hookstream-subject"]).toBe(subject("orders.created"));
      expect(req.headers["hookstream-subscription"]).toBe(`${ns}/signed`);
      expect(req.headers["x-team"]).toBe("fulfillment");
      // The spec's own User-Agent replaces hookstream's, once.
      expect(req.headers["user-agent"]).toBe("acme-hooks/1");
      expect(req.headers["content-type"]).toBe("application/json");
    }
    expect([...r.ids()].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `signed-${i}`).sort());
    const counts = await waitFor("status counters", async () => {
      const obj = await k.getSubscription(ns, "signed");
      return obj.status?.deliveries?.succeeded === 20 && obj.status;
    });
    expect(counts.lastAttempt?.statusCode).toBe(204);
  });

  it("signs with both keys during a rotation, so receivers on either secret verify", async () => {
    const r = await receiver();
    const oldSecret = await k.signingSecret(ns, "rot-old");
    const newSecret = await k.signingSecret(ns, "rot-new");
    const until = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    await k.createSubscription(
      ns,
      "rotating",
      spec(r.url(), ["rot.>"], {
        signing: {
          secretRef: { name: "rot-new" },
          previousSecretRef: { name: "rot-old" },
          previousValidUntil: until,
        },
      }),
    );
    await ready("rotating");
    await publish(js, subject("rot.a"), { hello: "rotation" }, "rot-1");
    await waitFor("delivery", () => r.received.length >= 1);
    const req = r.received[0]!;
    expect(req.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(req.body.toString(), req.headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(req.body.toString(), req.headers)).not.toThrow();
  });

  it("keeps events while a receiver is down and delivers them all once it is back", async () => {
    const r = await receiver();
    const port = r.port;
    await k.createSubscription(
      ns,
      "flaky",
      spec(r.url(), ["flaky.>"], {
        delivery: {
          retry: { schedule: ["1s", "1s", "1s", "2s", "2s", "2s", "2s", "2s"], jitter: 0 },
          circuitBreaker: { failureThreshold: 5, probeInterval: "1s" },
        },
      }),
    );
    await ready("flaky");
    await r.stop();
    for (let i = 0; i < 10; i++) await publish(js, subject("flaky.e"), { i }, `flaky-${i}`);
    await new Promise((res) => setTimeout(res, 2500));
    await r.start(port);
    await waitFor("all 10 after recovery", () => r.ids().size === 10, 30_000);
    expect([...r.ids()].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `flaky-${i}`).sort());
  }, 60_000);

  it("keeps pending retries while the subscription is briefly not ready, and delivers them after", async () => {
    const r = await receiver();
    let healthy = false;
    const answered204: string[] = [];
    r.behaviour = (req, res) => {
      if (healthy) answered204.push(req.headers["webhook-id"] ?? "");
      res.writeHead(healthy ? 204 : 503).end();
    };
    await k.signingSecret(ns, "blip-secret");
    await k.createSubscription(
      ns,
      "blip",
      spec(r.url(), ["blip.>"], {
        signing: { secretRef: { name: "blip-secret" } },
        delivery: { retry: { schedule: ["2s", "2s", "2s", "2s", "2s", "2s"], jitter: 0 } },
      }),
    );
    await ready("blip");
    await publish(js, subject("blip.a"), { b: 1 }, "blip-1");
    await waitFor("first failed attempt", () => r.received.length >= 1);
    // The Secret disappears: the subscription is not routed (SecretNotFound) while its retry is due.
    await k.core.deleteNamespacedSecret({ namespace: ns, name: "blip-secret" });
    await waitFor("not ready", async () => (await k.ready(ns, "blip")).reason === "SecretNotFound");
    await new Promise((res) => setTimeout(res, 3000));
    healthy = true;
    await k.signingSecret(ns, "blip-secret");
    await waitFor("delivered after recovery", () => answered204.includes("blip-1"), 20_000);
    await waitFor(
      "a 2xx for blip-1",
      async () => (await k.getSubscription(ns, "blip")).status?.deliveries?.succeeded === 1,
      20_000,
    );
  }, 40_000);

  it("keeps a paused subscription's events, holding nothing in memory meanwhile, and delivers them on resume", async () => {
    const r = await receiver();
    await k.createSubscription(ns, "pausing", spec(r.url(), ["pause.>"], { paused: true }));
    await waitFor("Paused", async () => (await k.ready(ns, "pausing")).reason === "Paused");
    await routed("pausing");
    for (let i = 0; i < 3; i++) await publish(js, subject("pause.a"), { i }, `pause-${i}`);
    // Long enough for the events to go to the retry stream and come back due (10 s) at least once.
    await new Promise((res) => setTimeout(res, 12_000));
    expect(r.received).toHaveLength(0);
    // Deferred tasks leave memory: the ingest back-pressure counter must not creep up while paused.
    expect(op.pipeline.busy).toBe(0);
    await k.updateSpec(ns, "pausing", (s) => {
      s.paused = false;
    });
    await waitFor("all three after resume", () => r.ids().size === 3, 25_000);
  }, 60_000);

  it("honours Retry-After on 429", async () => {
    const r = await receiver();
    let calls = 0;
    r.behaviour = (_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(429, { "retry-after": "3" }).end();
      else res.writeHead(200).end();
    };
    await k.createSubscription(
      ns,
      "throttled",
      spec(r.url(), ["throttle.>"], { delivery: { retry: { schedule: ["1s"], jitter: 0 } } }),
    );
    await ready("throttled");
    await publish(js, subject("throttle.x"), { x: 1 }, "throttle-1");
    await waitFor("second attempt", () => r.received.length >= 2, 15_000);
    const gap = r.received[1]!.at - r.received[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(2900);
    expect(r.received[1]!.headers["webhook-id"]).toBe("throttle-1");
  }, 30_000);

  describe("giving up", () => {
    let dead: Subscription;
    const deadLetters: { subject: string; headers: Record<string, string>; body: string }[] = [];
    beforeAll(() => {
      dead = nc.subscribe(subject("dead.>"), {
        callback: (_err, m) => {
          const headers: Record<string, string> = {};
          for (const [key, values] of m.headers ?? []) headers[key.toLowerCase()] = values.join(", ");
          deadLetters.push({ subject: m.subject, headers, body: m.string() });
        },
      });
    });
    afterAll(() => dead?.unsubscribe());

    it("does not retry a 400, and dead-letters it with the reason headers", async () => {
      const r = await receiver();
      r.behaviour = (_req, res) => void res.writeHead(400).end("bad");
      await k.createSubscription(
        ns,
        "rejecting",
        spec(r.url(), ["rej.>"], { delivery: { deadLetterSubject: subject("dead.rej") } }),
      );
      await ready("rejecting");
      await publish(js, subject("rej.a"), { a: 1 }, "rej-1", { "X-Trace": "t1" });
      const dl = await waitFor(
        "dead letter",
        () => deadLetters.find((d) => d.subject === subject("dead.rej")),
        10_000,
      );
      await new Promise((res) => setTimeout(res, 2500));
      expect(r.received).toHaveLength(1);
      expect(dl.body).toBe(JSON.stringify({ a: 1 }));
      expect(dl.headers["hookstream-reason"]).toContain("HTTP 400");
      expect(dl.headers["hookstream-status-code"]).toBe("400");
      expect(dl.headers["hookstream-attempts"]).toBe("1");
      expect(dl.headers["hookstream-subscription"]).toBe(`${ns}/rejecting`);
      expect(dl.headers["x-trace"]).toBe("t1");
    }, 20_000);

    it("dead-letters after the last retry, with the attempt count", async () => {
      const r = await receiver();
      r.behaviour = (_req, res) => void res.writeHead(503).end();
      await k.createSubscription(
        ns,
        "exhausted",
        spec(r.url(), ["exh.>"], {
          delivery: { retry: { schedule: ["1s", "1s"], jitter: 0 }, deadLetterSubject: subject("dead.exh") },
        }),
      );
      await ready("exhausted");
      await publish(js, subject("exh.a"), { e: 1 }, "exh-1");
      const dl = await waitFor(
        "dead letter",
        () => deadLetters.find((d) => d.subject === subject("dead.exh")),
        20_000,
      );
      expect(r.received).toHaveLength(3);
      expect(dl.headers["hookstream-reason"]).toMatch(/retries exhausted after 3 attempts/);
      expect(dl.headers["hookstream-attempts"]).toBe("3");
      expect(dl.headers["hookstream-status-code"]).toBe("503");
    }, 30_000);

    it("disables the endpoint on 410 Gone and says so in status", async () => {
      const r = await receiver();
      r.behaviour = (_req, res) => void res.writeHead(410).end();
      await k.createSubscription(ns, "gone", spec(r.url(), ["gone.>"]));
      await ready("gone");
      await publish(js, subject("gone.a"), { g: 1 }, "gone-1");
      const s = await waitFor(
        "disabled",
        async () => {
          const obj = await k.getSubscription(ns, "gone");
          const c = obj.status?.conditions?.find((x) => x.type === "Ready");
          return c?.reason === "EndpointDisabled" && obj.status;
        },
        15_000,
      );
      expect(s.endpointState).toBe("Disabled");
      await publish(js, subject("gone.b"), { g: 2 }, "gone-2");
      await new Promise((res) => setTimeout(res, 1500));
      expect(r.received).toHaveLength(1);
    }, 30_000);

    it("dead-letters events that are not JSON when the filter reads data, and events over the size limit", async () => {
      const r = await receiver();
      await k.createSubscription(
        ns,
        "filtered",
        spec(r.url(), ["mal.>"], {
          filter: "data.total > 100",
          delivery: { deadLetterSubject: subject("dead.mal") },
        }),
      );
      await ready("filtered");
      await publish(js, subject("mal.a"), "this is not json", "mal-1");
      await publish(js, subject("mal.a"), { total: 50 }, "mal-2");
      await publish(js, subject("mal.a"), { total: 500 }, "mal-3");
      await publish(js, subject("mal.a"), { total: 500, pad: "x".repeat(100_000) }, "mal-4");
      const notJson = await waitFor("not-JSON dead letter", () =>
        deadLetters.find(
          (d) => d.subject === subject("dead.mal") && d.headers["hookstream-event-id"] === "mal-1",
        ),
      );
      expect(notJson.headers["hookstream-reason"]).toContain("payload is not JSON");
      const tooBig = await waitFor("too-large dead letter", () =>
        deadLetters.find((d) => d.headers["hookstream-event-id"] === "mal-4"),
      );
      expect(tooBig.headers["hookstream-reason"]).toContain("payload too large");
      await waitFor("the matching event", () => r.ids().has("mal-3"));
      expect([...r.ids()]).toEqual(["mal-3"]);
    }, 30_000);
  });

  it("keeps healthy endpoints at pace while one endpoint is dead and one takes 10 s", async () => {
    const healthy = await Promise.all([receiver(), receiver(), receiver()]);
    const slow = await receiver();
    slow.behaviour = (_req, res) => void setTimeout(() => res.writeHead(200).end(), 10_000);
    const deadUrl = "http://127.0.0.1:9/hook"; // discard port: connection refused
    await k.createSubscription(
      ns,
      "iso-dead",
      spec(deadUrl, ["iso.>"], { delivery: { retry: { schedule: ["1s"], jitter: 0 } } }),
    );
    await k.createSubscription(
      ns,
      "iso-slow",
      spec(slow.url(), ["iso.>"], { endpoint: { url: slow.url(), timeout: "15s" } }),
    );
    for (const [i, h] of healthy.entries())
      await k.createSubscription(ns, `iso-ok-${i}`, spec(h.url(), ["iso.>"]));
    for (const name of ["iso-dead", "iso-slow", "iso-ok-0", "iso-ok-1", "iso-ok-2"]) await routed(name);
    const started = Date.now();
    const n = 200;
    for (let i = 0; i < n; i++) await publish(js, subject("iso.e"), { i }, `iso-${i}`);
    for (const h of healthy) await waitFor("healthy receiver got all", () => h.ids().size === n, 20_000);
    const elapsed = Date.now() - started;
    // Generous bound: the slow endpoint alone would take 10 s per event in series.
    expect(elapsed).toBeLessThan(8000);
  }, 60_000);
});
