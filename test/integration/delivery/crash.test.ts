import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "@jest/globals";
import { guardedTempDir } from "../../bed/bed.js";
import { startNats, type NatsBed } from "../../bed/nats.js";
import { bedEnv } from "../env.js";
import { KubeHelper } from "../helpers/kube.js";
import { natsClient, publish, streamArgs, streamNames } from "../helpers/nats.js";
import { startTestOperator } from "../helpers/operator.js";
import { killAndWait, spawnOperator, type OperatorProcess } from "../helpers/process.js";
import { Receiver } from "../helpers/receiver.js";
import { waitFor } from "../helpers/wait.js";

/** Publishes n events, retrying each until JetStream stores it (same Nats-Msg-Id: no duplicates). */
async function publishAll(
  url: string,
  subject: string,
  prefix: string,
  n: number,
  gapMs: number,
): Promise<void> {
  const { nc, js } = await natsClient(url);
  try {
    for (let i = 0; i < n; i++) {
      for (;;) {
        try {
          await publish(js, subject, { i }, `${prefix}-${i}`);
          break;
        } catch {
          await sleep(100);
        }
      }
      if (gapMs) await sleep(gapMs);
    }
  } finally {
    await nc.close();
  }
}

describe("at-least-once under crashes", () => {
  const k = new KubeHelper();
  const procs: OperatorProcess[] = [];
  const receivers: Receiver[] = [];
  afterAll(async () => {
    for (const p of procs) await killAndWait(p);
    for (const r of receivers) await r.stop();
  });

  it("loses nothing when the operator is SIGKILLed mid-stream, three times", async () => {
    const ns = await k.namespace("crash");
    const names = streamNames("crash");
    const r = await new Receiver().start();
    receivers.push(r);
    await k.signingSecret(ns, "hook-secret");
    await k.createSubscription(ns, "crashy", {
      subjects: [`${names.base}.>`],
      endpoint: { url: r.url() },
      signing: { secretRef: { name: "hook-secret" } },
      delivery: { retry: { schedule: ["1s", "1s", "1s", "1s", "1s"], jitter: 0 } },
    });
    const args = [
      "--namespaces",
      ns,
      "--leader-elect",
      "false",
      "--ssrf-allow-cidrs",
      "127.0.0.0/8",
      "--ack-wait",
      "3s",
      "--handoff-after",
      "1s",
      ...streamArgs(names),
    ];
    const start = async () => {
      const p = spawnOperator(args);
      procs.push(p);
      await waitFor("operator pulling", () => p.output().includes('"msg":"pulling events"'), 30_000, 50);
      return p;
    };
    let op = await start();
    const n = 400;
    const publishing = publishAll(bedEnv("HOOKSTREAM_TEST_NATS_URL"), `${names.base}.orders`, "crash", n, 10);
    for (let kill = 0; kill < 3; kill++) {
      await sleep(1200);
      await killAndWait(op, "SIGKILL");
      op = await start();
    }
    await publishing;
    const expected = Array.from({ length: n }, (_, i) => `crash-${i}`);
    await waitFor("every event delivered", () => expected.every((id) => r.ids().has(id)), 60_000, 200).catch(
      (err: unknown) => {
        // What the operators said above info level, to tell a loss from a slow retry.
        const said = procs
          .flatMap((p) => p.output().split("\n"))
          .filter((l) => /"level":"(warn|error|fatal)"/.test(l));
        console.log(
          `missing: ${expected.filter((id) => !r.ids().has(id)).join(" ")}\n${said.slice(-40).join("\n")}`,
        );
        throw err;
      },
    );
    const duplicates = r.received.length - r.ids().size;
    console.log(`SIGKILL x3: ${n} events, ${r.ids().size} unique delivered, ${duplicates} duplicates`);
    expect(expected.filter((id) => !r.ids().has(id))).toEqual([]);
  }, 150_000);

  it("loses nothing when nats-server restarts mid-stream", async () => {
    const ns = await k.namespace("natsrestart");
    const names = streamNames("nrs");
    const { dir, cleanup } = guardedTempDir("hookstream-nats-");
    let nats: NatsBed = await startNats(dir, bedEnv("TEST_ASSET_NATS_SERVER"), "own");
    const r = await new Receiver().start();
    receivers.push(r);
    await k.signingSecret(ns, "hook-secret");
    await k.createSubscription(ns, "steady", {
      subjects: [`${names.base}.>`],
      endpoint: { url: r.url() },
      signing: { secretRef: { name: "hook-secret" } },
    });
    const op = await startTestOperator({
      namespaces: [ns],
      streams: names,
      args: ["--nats-url", nats.url, "--leader-elect", "false", "--ack-wait", "3s"],
    });
    try {
      const n = 300;
      const publishing = publishAll(nats.url, `${names.base}.orders`, "nrs", n, 10);
      await sleep(1000);
      await nats.process.stop();
      await sleep(1000);
      nats = await startNats(dir, bedEnv("TEST_ASSET_NATS_SERVER"), "own", {
        port: nats.port,
        monitorPort: nats.monitorPort,
      });
      await publishing;
      const expected = Array.from({ length: n }, (_, i) => `nrs-${i}`);
      await waitFor("every event delivered", () => expected.every((id) => r.ids().has(id)), 60_000, 200);
      console.log(
        `nats-server restart: ${n} events, ${r.ids().size} unique delivered, ${r.received.length - r.ids().size} duplicates`,
      );
      expect(expected.filter((id) => !r.ids().has(id))).toEqual([]);
    } finally {
      await op.stop();
      await nats.process.stop();
      await cleanup();
    }
  }, 150_000);
});
