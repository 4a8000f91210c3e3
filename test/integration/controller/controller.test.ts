import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { parseSecret } from "../../../src/signing/index.js";
import type { RunningOperator } from "../../../src/run.js";
import { KubeHelper, simpleSpec } from "../helpers/kube.js";
import { startTestOperator } from "../helpers/operator.js";
import { waitFor } from "../helpers/wait.js";

describe("controller against the real API server", () => {
  const k = new KubeHelper();
  let ns: string;
  let op: RunningOperator;

  beforeAll(async () => {
    ns = await k.namespace("ctl");
    op = await startTestOperator({ namespaces: [ns], args: ["--status-interval", "1s"] });
    await waitFor("leadership", () => op.isLeader(), 15_000);
  });
  afterAll(async () => {
    await op?.stop();
  });

  const routed = (subject: string) =>
    op.controller.table
      .current()
      .match(subject)
      .map((r) => r.key);

  it("makes a subscription Ready within 2 s, follows generations, and drops routes on delete", async () => {
    await k.signingSecret(ns, "hook-secret");
    const started = Date.now();
    await k.createSubscription(ns, "orders", simpleSpec());
    const ready = await waitFor(
      "Ready=True",
      async () => {
        const r = await k.ready(ns, "orders");
        return r.status === "True" && r;
      },
      2000,
      25,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2000);
    expect(ready.reason).toBe("Delivering");
    expect(ready.observedGeneration).toBe(1);
    expect(routed("shop.orders.created")).toEqual([`${ns}/orders`]);
    expect(routed("shop.orders.42.paid")).toEqual([`${ns}/orders`]);
    expect(routed("shop.refunds.1")).toEqual([]);

    await k.updateSpec(ns, "orders", (spec) => {
      spec.subjects = ["shop.refunds.>"];
    });
    const next = await waitFor("observedGeneration 2", async () => {
      const r = await k.ready(ns, "orders");
      return r.observedGeneration === 2 && r;
    });
    expect(next.generation).toBe(2);
    expect(routed("shop.refunds.1")).toEqual([`${ns}/orders`]);
    expect(routed("shop.orders.created")).toEqual([]);

    await k.deleteSubscription(ns, "orders");
    await waitFor("routes dropped", () => routed("shop.refunds.1").length === 0);
  });

  it("shows SecretNotFound until the Secret appears, then becomes Ready by itself", async () => {
    await k.createSubscription(
      ns,
      "late",
      simpleSpec(undefined, { signing: { secretRef: { name: "late-secret" } } }),
    );
    const r = await waitFor("SecretNotFound", async () => {
      const x = await k.ready(ns, "late");
      return x.reason === "SecretNotFound" && x;
    });
    expect(r.status).toBe("False");
    expect(r.message).toContain(`Secret ${ns}/late-secret not found`);
    expect(routed("shop.orders.created")).not.toContain(`${ns}/late`);

    await k.signingSecret(ns, "late-secret");
    await waitFor(
      "Ready=True after the Secret appeared",
      async () => (await k.ready(ns, "late")).status === "True",
    );
    expect(routed("shop.orders.created")).toContain(`${ns}/late`);
    const reasons = await waitFor("events", async () => {
      const list = (await k.events(ns, "late")).map((e) => e.reason);
      return list.includes("Recovered") && list;
    });
    expect(reasons).toContain("SecretNotFound");
  });

  it("reports a malformed secret and a filter that does not compile, never routing them", async () => {
    await k.secret(ns, "bad-secret", { secret: "not-a-webhook-secret" });
    await k.createSubscription(
      ns,
      "badsecret",
      simpleSpec(undefined, { signing: { secretRef: { name: "bad-secret" } } }),
    );
    await k.signingSecret(ns, "hook-secret");
    await k.createSubscription(ns, "badfilter", simpleSpec(undefined, { filter: "data.total >" }));
    const s = await waitFor("InvalidSecret", async () => {
      const x = await k.ready(ns, "badsecret");
      return x.reason === "InvalidSecret" && x;
    });
    expect(s.message).toContain("whsec_");
    expect(s.message).not.toContain("not-a-webhook-secret");
    const f = await waitFor("InvalidFilter", async () => {
      const x = await k.ready(ns, "badfilter");
      return x.reason === "InvalidFilter" && x;
    });
    expect(f.message).toMatch(/spec\.filter does not compile/);
    expect(routed("shop.orders.created")).not.toContain(`${ns}/badsecret`);
    expect(routed("shop.orders.created")).not.toContain(`${ns}/badfilter`);

    // Fixing the filter recovers without a restart.
    await k.updateSpec(ns, "badfilter", (spec) => {
      spec.filter = "data.total > 100";
    });
    await waitFor("filter fixed", async () => (await k.ready(ns, "badfilter")).status === "True");
    expect(routed("shop.orders.created")).toContain(`${ns}/badfilter`);
  });

  it("picks up a rotated secret without a restart", async () => {
    const first = await k.signingSecret(ns, "rot-secret");
    await k.createSubscription(
      ns,
      "rot",
      simpleSpec(undefined, { signing: { secretRef: { name: "rot-secret" } } }),
    );
    const keyOf = () =>
      op.controller.table.current().get(`${ns}/rot`)?.target.signing?.current.toString("base64");
    const parsed = (s: string) => (parseSecret(s) as { key: Buffer }).key.toString("base64");
    await waitFor("first key routed", () => keyOf() === parsed(first));
    const second = await k.signingSecret(ns, "rot-secret");
    await waitFor("second key routed", () => keyOf() === parsed(second));
  });
});

describe("tenant subject policy", () => {
  const k = new KubeHelper();
  let ns: string;
  let op: RunningOperator;
  beforeAll(async () => {
    ns = await k.namespace("pol");
    op = await startTestOperator({
      namespaces: [ns],
      policy: `namespaces:\n  ${ns}: ["shop.orders.>"]\ndefault: []\n`,
      args: ["--status-interval", "1s"],
    });
  });
  afterAll(async () => {
    await op?.stop();
  });

  it("refuses patterns outside the namespace's allowance with SubjectNotAllowed", async () => {
    await k.signingSecret(ns, "hook-secret");
    await k.createSubscription(ns, "inside", simpleSpec(undefined, { subjects: ["shop.orders.*"] }));
    await k.createSubscription(
      ns,
      "outside",
      simpleSpec(undefined, { subjects: ["shop.orders.*", "billing.>"] }),
    );
    await waitFor("inside Ready", async () => (await k.ready(ns, "inside")).status === "True");
    const r = await waitFor("outside refused", async () => {
      const x = await k.ready(ns, "outside");
      return x.reason === "SubjectNotAllowed" && x;
    });
    expect(r.message).toContain('"billing.>"');
    expect(
      op.controller.table
        .current()
        .match("shop.orders.created")
        .map((x) => x.key),
    ).toEqual([`${ns}/inside`]);
  });
});

describe("controller start", () => {
  const k = new KubeHelper();

  it("has every existing subscription in the routing table when start() returns", async () => {
    // Two subscriptions and two reconcile workers: each worker takes one at once, so the queue is
    // empty before either is reconciled. Ingest starts right after start(): an empty table then
    // would match nothing and ack events undelivered.
    const ns = await k.namespace("ctlstart");
    await k.signingSecret(ns, "hook-secret");
    await k.createSubscription(ns, "one", simpleSpec());
    await k.createSubscription(ns, "two", simpleSpec());
    const op = await startTestOperator({ namespaces: [ns] });
    try {
      const keys = op.controller.table
        .current()
        .match("shop.orders.created")
        .map((r) => r.key)
        .sort();
      expect(keys).toEqual([`${ns}/one`, `${ns}/two`]);
    } finally {
      await op.stop();
    }
  });
});
