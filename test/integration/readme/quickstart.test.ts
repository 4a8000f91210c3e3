import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { NatsConnection } from "@nats-io/nats-core";
import { REPO_ROOT } from "../../bed/binaries.js";
import { bedEnv } from "../env.js";
import { KubeHelper } from "../helpers/kube.js";
import { natsClient } from "../helpers/nats.js";

const run = promisify(execFile);

/** The README's quickstart commands, continuation lines joined and comments dropped. */
function quickstart(): string[] {
  const readme = readFileSync(`${REPO_ROOT}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## Quickstart on a real cluster"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** Runs each README quickstart command against the test bed, as a newcomer would type it. */
describe("README quickstart, against the real test bed", () => {
  const commands = quickstart();
  const env = {
    ...process.env,
    KUBECONFIG: bedEnv("HOOKSTREAM_TEST_KUBECONFIG"),
    NATS_URL: bedEnv("HOOKSTREAM_TEST_NATS_URL"),
    PATH: [dirname(bedEnv("TEST_ASSET_HELM")), dirname(bedEnv("TEST_ASSET_NATS_CLI")), process.env.PATH].join(
      ":",
    ),
  };
  const sh = (cmd: string) => run("bash", ["-c", cmd], { cwd: REPO_ROOT, env });
  let nc: NatsConnection;
  beforeAll(async () => {
    ({ nc } = await natsClient());
  });
  afterAll(async () => {
    await nc?.close();
  });

  it("has the commands this test knows how to check", () => {
    expect(commands.map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual([
      "helm install",
      "kubectl apply",
      "kubectl apply",
      "kubectl get",
      "nats pub",
    ]);
  });

  it("installs the chart (server-side dry run: the bed has no nodes to run it)", async () => {
    const { stdout } = await sh(`${commands[0]} --dry-run=server`);
    expect(stdout).toContain("STATUS: pending-install");
    expect(stdout).toContain("kind: Deployment");
  });

  it("applies the example namespace, secrets and subscription (server-side dry run)", async () => {
    // The namespace exists for real so the objects inside it can be dry-run.
    const k = new KubeHelper();
    await k.core.createNamespace({ body: { metadata: { name: "shop" } } }).catch(() => undefined);
    for (const cmd of commands.slice(1, 3)) {
      const { stdout } = await sh(`${cmd} --dry-run=server`);
      expect(stdout).toMatch(/\(server dry run\)/);
    }
    const { stdout } = await sh(commands[3]!);
    expect(stdout).not.toMatch(/error/i);
  });

  it("publishes the event with the NATS CLI, with its headers", async () => {
    const sub = nc.subscribe("shop.orders.created", { max: 1 });
    await nc.flush();
    await sh(commands[4]!);
    for await (const m of sub) {
      expect(m.json()).toEqual({ orderId: "o-1", total: 120 });
      expect(m.headers?.get("Nats-Msg-Id")).toBe("order-1");
      expect(m.headers?.get("Content-Type")).toBe("application/json");
    }
  });
});
