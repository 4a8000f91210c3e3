// The operator runs with nothing but what the chart grants: installs the chart, takes a token of its
// ServiceAccount, and runs `hookstream run` with the Deployment's own environment against a real API server
// and the bed's NATS. A verb missing from the chart's RBAC shows up here as a 403 the can-i checks cannot see.
// A cluster-wide operator would reconcile (and write status on) every other test's subscriptions, so this
// file starts its own etcd and kube-apiserver, the same binaries as the shared bed.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import { guardedTempDir } from "../../bed/bed.js";
import { REPO_ROOT } from "../../bed/binaries.js";
import { installCrds } from "../../bed/crds.js";
import { startKube, type KubeBed } from "../../bed/kube.js";
import { bedEnv, uniqueName } from "../env.js";
import { KubeHelper, simpleSpec } from "../helpers/kube.js";
import { streamNames } from "../helpers/nats.js";
import { waitFor } from "../helpers/wait.js";
import { CHART, helmBinary, Kubectl, parseManifests, podEnvironment, runOk } from "./tools.js";

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; "certificate-authority": string } }[];
}

/** A kubeconfig for the bed's API server that authenticates with the given bearer token only. */
function tokenKubeconfig(adminKubeconfig: string, token: string, dir: string): string {
  const admin = parse(readFileSync(adminKubeconfig, "utf8")) as Kubeconfig;
  const cluster = admin.clusters[0]!.cluster;
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "bed", cluster }],
      users: [{ name: "operator", user: { token } }],
      contexts: [{ name: "operator", context: { cluster: "bed", user: "operator" } }],
      "current-context": "operator",
    }),
    { mode: 0o600 },
  );
  return file;
}

describe("the operator under the chart's RBAC", () => {
  let kube: KubeBed;
  let k: KubeHelper;
  let kubectl: Kubectl;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    const { dir, cleanup } = guardedTempDir("hookstream-chart-kube-");
    cleanups.push(cleanup);
    kube = await startKube(dir, {
      ETCD: bedEnv("TEST_ASSET_ETCD"),
      KUBE_APISERVER: bedEnv("TEST_ASSET_KUBE_APISERVER"),
    });
    cleanups.push(...kube.processes.map((p) => () => p.stop()));
    await installCrds(kube, join(REPO_ROOT, "crds"));
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    k = new KubeHelper(kc);
    kubectl = new Kubectl(kube.kubeconfig);
  }, 120_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it.each([
    ["cluster-wide", false],
    ["watching one namespace", true],
  ])(
    "reconciles, writes status and Events, and holds its Lease (%s)",
    async (_mode, scoped) => {
      const ns = uniqueName("chart-op");
      const tenant = uniqueName("chart-tenant");
      for (const n of [ns, tenant]) await kubectl.namespace(n);
      const release = uniqueName("hs");
      const fullname = `${release}-hookstream`;
      const streams = streamNames("chart");
      const helmArgs = [
        "--namespace",
        ns,
        `--kubeconfig=${kube.kubeconfig}`,
        "--set",
        `stream.name=${streams.stream}`,
        "--set-json",
        `stream.subjects=${JSON.stringify([streams.subjects])}`,
        "--set",
        `stream.retryStream=${streams.retryStream}`,
        "--set",
        `stream.retrySubjectPrefix=${streams.retryPrefix}`,
        "--set",
        `stream.consumer=${streams.consumer}`,
        "--set",
        "statusInterval=500ms",
        ...(scoped ? ["--set-json", `watchNamespaces=${JSON.stringify([tenant])}`] : []),
      ];
      await runOk(helmBinary(), ["install", release, CHART, ...helmArgs]);
      cleanups.push(() =>
        runOk(helmBinary(), ["uninstall", release, "--namespace", ns, `--kubeconfig=${kube.kubeconfig}`]),
      );
      const manifest = await runOk(helmBinary(), [
        "get",
        "manifest",
        release,
        "--namespace",
        ns,
        `--kubeconfig=${kube.kubeconfig}`,
      ]);
      const podName = `${fullname}-5c9d8-x7k2p`;
      const env = podEnvironment(parseManifests(manifest), ns, podName);

      const token = (await kubectl.ok(["create", "token", fullname, "-n", ns, "--duration=1h"])).trim();
      const dir = mkdtempSync(join(bedEnv("HOOKSTREAM_TEST_DIR"), "chart-op-"));
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "run"], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          ...env,
          // What differs outside a pod: the API server and NATS to use, and a free local port.
          KUBECONFIG: tokenKubeconfig(kube.kubeconfig, token, dir),
          NATS_URL: bedEnv("HOOKSTREAM_TEST_NATS_URL"),
          HOOKSTREAM_HEALTH_ADDR: "127.0.0.1:0",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        await exited;
      });

      const leases = k.kc.makeApiClient(CoordinationV1Api);
      const holder = async () =>
        (await leases.readNamespacedLease({ name: fullname, namespace: ns })).spec?.holderIdentity;
      await waitFor(
        "the operator to take its Lease",
        async () => (await holder()) === podName,
        30_000,
        100,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\noperator output:\n${output}`);
      });

      await k.signingSecret(tenant, "hook-secret");
      await k.createSubscription(tenant, "orders", simpleSpec());
      await waitFor(
        "Ready=True written through the status subresource",
        async () => {
          const r = await k.ready(tenant, "orders");
          return r.status === "True" && r.observedGeneration === r.generation;
        },
        15_000,
        100,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\noperator output:\n${output}`);
      });
      const events = await waitFor(
        "an Event on the subscription",
        async () => {
          const list = await k.events(tenant, "orders");
          return list.length > 0 ? list : undefined;
        },
        10_000,
        100,
      );
      expect(events[0]?.source?.component).toBe("hookstream");

      // A subscription whose secret is missing: reconciled through the secrets cache, reported as not Ready.
      await k.createSubscription(tenant, "no-secret", {
        ...simpleSpec(),
        signing: { secretRef: { name: "absent" } },
      });
      await waitFor("Ready=False for a missing secret", async () => {
        const r = await k.ready(tenant, "no-secret");
        return r.status === "False";
      });

      expect(output).not.toMatch(/forbidden|\b403\b/i);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      // On a clean shutdown the leader hands its Lease back (get + update of its own Lease).
      expect(await holder()).toBe("");
      expect(output).not.toMatch(/forbidden|\b403\b/i);
    },
    90_000,
  );
});
