import { afterAll, describe, expect, it } from "@jest/globals";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { uniqueName } from "../env.js";
import { KubeHelper, simpleSpec } from "../helpers/kube.js";
import { streamArgs, streamNames } from "../helpers/nats.js";
import { killAndWait, spawnOperator, type OperatorProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/wait.js";

describe("leader election with two operator processes", () => {
  const k = new KubeHelper();
  const procs: OperatorProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await killAndWait(p);
  });

  /** A namespace, a Lease name, a reader of its holder, and the flags both replicas share. */
  async function twoReplicaSetup(prefix: string, extra: string[] = []) {
    const ns = await k.namespace(prefix);
    const lease = uniqueName("lease");
    const leases = k.kc.makeApiClient(CoordinationV1Api);
    const holder = async () =>
      (await leases.readNamespacedLease({ name: lease, namespace: ns })).spec?.holderIdentity ?? "";
    const names = streamArgs(streamNames(prefix.slice(0, 4)));
    const common = [
      "--namespaces",
      ns,
      "--leader-election-namespace",
      ns,
      "--leader-election-id",
      lease,
      ...extra,
      ...names,
    ];
    return { ns, holder, common };
  }

  it("lets only the leader write status, and the standby takes over within 15 s of a SIGKILL", async () => {
    const { ns, holder, common } = await twoReplicaSetup("leader", ["--status-interval", "1s"]);
    const a = spawnOperator([...common, "--identity", "replica-a"]);
    procs.push(a);
    const first = await waitFor(
      "a leader",
      async () => (await holder().catch(() => "")) || undefined,
      30_000,
      100,
    );
    expect(first).toBe("replica-a");
    const b = spawnOperator([...common, "--identity", "replica-b"]);
    procs.push(b);
    await waitFor("replica-b caches synced", () => b.output().includes("caches synced"), 30_000, 100);

    await k.signingSecret(ns, "hook-secret");
    await k.createSubscription(ns, "one", simpleSpec());
    await waitFor("Ready from the leader", async () => (await k.ready(ns, "one")).status === "True", 10_000);
    expect(a.output()).toContain('"msg":"became leader"');
    expect(b.output()).not.toContain('"msg":"became leader"');

    const killedAt = Date.now();
    await killAndWait(a, "SIGKILL");
    await waitFor("replica-b takes over", async () => (await holder()) === "replica-b", 20_000, 100);
    const takeoverMs = Date.now() - killedAt;
    console.log(`leader takeover after SIGKILL: ${takeoverMs} ms`);
    expect(takeoverMs).toBeLessThan(15_000);

    // The new leader writes status: a subscription created now becomes Ready.
    await k.createSubscription(ns, "two", simpleSpec());
    await waitFor(
      "Ready from the new leader",
      async () => (await k.ready(ns, "two")).status === "True",
      10_000,
    );
  }, 90_000);

  it("hands over at once when the leader shuts down gracefully", async () => {
    const { holder, common } = await twoReplicaSetup("handover");
    const a = spawnOperator([...common, "--identity", "replica-a"]);
    procs.push(a);
    await waitFor("a leads", async () => (await holder().catch(() => "")) === "replica-a", 30_000, 100);
    const b = spawnOperator([...common, "--identity", "replica-b"]);
    procs.push(b);
    await waitFor("replica-b caches synced", () => b.output().includes("caches synced"), 30_000, 100);
    const stoppedAt = Date.now();
    expect(await killAndWait(a, "SIGTERM")).toBe(0);
    await waitFor("replica-b takes over", async () => (await holder()) === "replica-b", 10_000, 100);
    // Released lease: the standby only waits for its next retry (2 s), not the lease duration.
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
  }, 90_000);
});
