import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { Webhook } from "standardwebhooks";
import { REPO_ROOT } from "../../bed/binaries.js";
import { KubeHelper } from "../helpers/kube.js";
import { natsClient, publish, streamArgs, streamNames } from "../helpers/nats.js";
import { killAndWait, spawnOperator, type OperatorProcess } from "../helpers/process.js";
import { Receiver } from "../helpers/receiver.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The operator as it ships: tsc's output run by plain node (the image's command), delivering from
 * its delivery worker thread, which is loaded from dist/ next to the code that starts it.
 */
describe("the built operator", () => {
  const k = new KubeHelper();
  let op: OperatorProcess | undefined;
  const r = new Receiver();
  afterAll(async () => {
    if (op) await killAndWait(op, "SIGTERM");
    await r.stop();
  });

  it("delivers signed events from its delivery worker thread, and exits 0 on SIGTERM", async () => {
    expect(existsSync(join(REPO_ROOT, "dist/main.js"))).toBe(true); // `npm test` builds first
    const ns = await k.namespace("built");
    const names = streamNames("blt");
    await r.start();
    const secret = await k.signingSecret(ns, "hook-secret");
    await k.createSubscription(ns, "shipped", {
      subjects: [`${names.base}.>`],
      endpoint: { url: r.url() },
      signing: { secretRef: { name: "hook-secret" } },
    });
    op = spawnOperator(
      [
        "--namespaces",
        ns,
        "--leader-elect",
        "false",
        "--ssrf-allow-cidrs",
        "127.0.0.0/8",
        "--delivery-workers",
        "1",
        ...streamArgs(names),
      ],
      {},
      true,
    );
    const started = op;
    await waitFor("operator pulling", () => started.output().includes('"msg":"pulling events"'), 30_000, 50);
    const { nc, js } = await natsClient();
    try {
      for (let i = 0; i < 20; i++) await publish(js, `${names.base}.orders`, { i }, `built-${i}`);
    } finally {
      await nc.close();
    }
    await waitFor("20 deliveries", () => r.ids().size >= 20, 20_000, 50);
    const wh = new Webhook(secret);
    for (const req of r.received) expect(wh.verify(req.body.toString(), req.headers)).toHaveProperty("i");
    started.child.kill("SIGTERM");
    expect(await started.exited).toBe(0);
    expect(started.output()).not.toMatch(/delivery worker failed/);
  }, 60_000);
});
