// The Helm chart against the test bed's real kube-apiserver: lint and schema, what it renders, server-side
// dry runs of every ci/ values file, a real install whose ServiceAccount is probed with `kubectl auth can-i`,
// and an uninstall that leaves nothing behind.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { V1PolicyRule, V1Volume } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { parse } from "yaml";
import { loadConfig, OPTIONS } from "../../../src/config.js";
import { parsePolicy } from "../../../src/controller/policy.js";
import { REPO_ROOT } from "../../bed/binaries.js";
import { bedEnv, uniqueName } from "../env.js";
import {
  CHART,
  containerOf,
  deploymentOf,
  envOf,
  find,
  helmBinary,
  helmTemplate,
  Kubectl,
  one,
  podEnvironment,
  rulesOf,
  run,
  runOk,
  type K8sObject,
} from "./tools.js";

const CI_DIR = join(CHART, "ci");
const CI_FILES = readdirSync(CI_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const SCRATCH = mkdtempSync(join(bedEnv("HOOKSTREAM_TEST_DIR"), "chart-test-"));

function valuesFile(name: string, text: string): string {
  const file = join(SCRATCH, name);
  writeFileSync(file, text);
  return file;
}

/** Where the file at `path` inside the container comes from: a Secret or ConfigMap key, through a mount. */
function fileSource(
  objects: K8sObject[],
  path: string,
): { kind: "secret" | "configMap"; name: string; key: string } {
  const container = containerOf(objects);
  const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === dirname(path));
  if (!mount) throw new Error(`no volume is mounted at ${dirname(path)} (for ${path})`);
  expect(mount.readOnly).toBe(true);
  const volume: V1Volume | undefined = deploymentOf(objects).spec?.template.spec?.volumes?.find(
    (v) => v.name === mount.name,
  );
  if (volume?.secret) {
    const item = volume.secret.items?.find((i) => i.path === basename(path));
    if (!item) throw new Error(`Secret volume ${volume.name} has no item with path ${basename(path)}`);
    return { kind: "secret", name: volume.secret.secretName ?? "", key: item.key };
  }
  if (volume?.configMap) return { kind: "configMap", name: volume.configMap.name ?? "", key: basename(path) };
  throw new Error(`volume ${mount.name} is neither a Secret nor a ConfigMap`);
}

const EXPECTED_WATCH_RULES: V1PolicyRule[] = [
  { apiGroups: ["hookstream.io"], resources: ["webhooksubscriptions"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["hookstream.io"], resources: ["webhooksubscriptions/status"], verbs: ["patch"] },
  { apiGroups: [""], resources: ["secrets"], verbs: ["list", "watch"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create"] },
];

function expectedLeaseRules(lease: string): V1PolicyRule[] {
  return [
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      resourceNames: [lease],
      verbs: ["get", "update"],
    },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
  ];
}

describe("chart: lint and values schema", () => {
  it("has the ci values files the chart is tested with", () => {
    expect(CI_FILES).toEqual([
      "cluster-wide-values.yaml",
      "default-values.yaml",
      "namespaced-values.yaml",
      "single-replica-values.yaml",
    ]);
  });

  it.each(CI_FILES)("lints strictly with ci/%s", async (file) => {
    const r = await run(helmBinary(), ["lint", "--strict", CHART, "-f", join(CI_DIR, file)]);
    expect(`${r.stdout}${r.stderr}`).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(r.code).toBe(0);
  });

  it.each([
    ["a misspelt top-level key", "replicaCount: 2\n", "additional properties 'replicaCount' not allowed"],
    [
      "a misspelt nested key",
      "nats:\n  url: nats://nats:4222\n",
      "at '/nats': additional properties 'url' not allowed",
    ],
    [
      "a misspelt deeper key",
      "stream:\n  maxage: 1h\n",
      "at '/stream': additional properties 'maxage' not allowed",
    ],
    ["an unknown log level", "logLevel: verbose\n", "at '/logLevel'"],
    ["an unknown pull policy", "image:\n  pullPolicy: Sometimes\n", "at '/image/pullPolicy'"],
    ["an unknown retention", "stream:\n  retention: workqueue\n", "at '/stream/retention'"],
    ["a bad duration", "statusInterval: 5 seconds\n", "at '/statusInterval'"],
    ["a string where a number goes", "replicas: two\n", "at '/replicas'"],
    [
      "two NATS authentications",
      "nats:\n  auth:\n    tokenSecret: {name: a}\n    credsSecret: {name: b}\n",
      "at '/nats/auth'",
    ],
    [
      "a policy pattern with spaces",
      "subjectPolicy:\n  default: ['shop. orders']\n",
      "at '/subjectPolicy/default/0'",
    ],
  ])("rejects %s in lint and template, naming it", async (_what, values, message) => {
    const file = valuesFile(`bad-${uniqueName("v")}.yaml`, values);
    const lint = await run(helmBinary(), ["lint", "--strict", CHART, "-f", file]);
    expect(lint.code).not.toBe(0);
    expect(`${lint.stdout}${lint.stderr}`).toContain(message);
    const template = await run(helmBinary(), ["template", "x", CHART, "-f", file]);
    expect(template.code).not.toBe(0);
    expect(template.stderr).toContain(message);
  });

  it.each([
    [
      "several replicas without leader election",
      "replicas: 2\nleaderElection:\n  enabled: false\n",
      "replicas > 1 needs leaderElection.enabled: true",
    ],
    [
      "a client certificate without its key",
      "nats:\n  tls:\n    secretName: t\n    keyKey: ''\n",
      "nats.tls.certKey and nats.tls.keyKey go together",
    ],
  ])("refuses to render %s", async (_what, values, message) => {
    const r = await run(helmBinary(), [
      "template",
      "x",
      CHART,
      "-f",
      valuesFile(`bad-${uniqueName("v")}.yaml`, values),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

describe("chart: what it renders", () => {
  const ns = "hookstream-system";
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(async () => {
    for (const file of CI_FILES) {
      rendered.set(file, (await helmTemplate("hs", ns, ["-f", join(CI_DIR, file)])).objects);
    }
  });
  const objectsOf = (file: string): K8sObject[] => rendered.get(file)!;

  it("runs `hookstream run` hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp", () => {
    const objects = objectsOf("default-values.yaml");
    const pod = deploymentOf(objects).spec!.template.spec!;
    const c = containerOf(objects);
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(["run"]);
    const appVersion = (parse(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as { appVersion: string })
      .appVersion;
    expect(c.image).toBe(`ghcr.io/hookstream/hookstream:${appVersion}`);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.resources?.requests).toEqual({ cpu: "100m", memory: "128Mi" });
    expect(c.resources?.limits).toEqual({ cpu: "2", memory: "512Mi" });
    // The only writable path is an emptyDir at /tmp.
    const tmp = c.volumeMounts?.find((m) => m.mountPath === "/tmp");
    expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(pod.serviceAccountName).toBe("hs-hookstream");
    expect(one(objects, "ServiceAccount").metadata.name).toBe("hs-hookstream");
  });

  it("probes /healthz and /readyz on the port the operator listens on, which the Service exposes", () => {
    for (const file of CI_FILES) {
      const objects = objectsOf(file);
      const c = containerOf(objects);
      const cfg = loadConfig([], podEnvironment(objects, ns));
      expect(c.ports).toEqual([{ name: "http-metrics", containerPort: cfg.healthPort, protocol: "TCP" }]);
      expect(cfg.healthHost).toBe("0.0.0.0");
      expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http-metrics" });
      expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http-metrics" });
      const svc = one(objects, "Service") as unknown as {
        spec: {
          ports: { name: string; port: number; targetPort: string }[];
          selector: Record<string, string>;
        };
      };
      expect(svc.spec.ports).toEqual([
        { name: "http-metrics", port: 8080, targetPort: "http-metrics", protocol: "TCP" },
      ]);
      expect(deploymentOf(objects).spec?.template.metadata?.labels).toMatchObject(svc.spec.selector);
    }
  });

  it("gives the operator time to shut down: its deadline is inside the grace period", () => {
    for (const file of CI_FILES) {
      const objects = objectsOf(file);
      const grace = deploymentOf(objects).spec!.template.spec!.terminationGracePeriodSeconds!;
      expect(grace).toBe(30);
      const cfg = loadConfig([], podEnvironment(objects, ns));
      expect(cfg.shutdownTimeoutMs).toBe(25_000);
      expect(cfg.shutdownTimeoutMs).toBeLessThan(grace * 1000);
    }
  });

  it("sets only variables the operator reads, and every one of them across the ci files", async () => {
    const known = new Set(OPTIONS.map((o) => o.env));
    const seen = new Set<string>();
    const extra = await helmTemplate("hs", ns, ["--set", "nats.auth.nkeySecret.name=nats-nkey"]);
    for (const objects of [...rendered.values(), extra.objects]) {
      for (const name of envOf(objects).keys()) {
        seen.add(name);
        // NODE_OPTIONS comes from extraEnv in the cluster-wide ci file.
        if (name !== "NODE_OPTIONS") expect([name, known.has(name)]).toEqual([name, true]);
      }
    }
    const notSettable = [...known].filter((env) => !seen.has(env));
    // KUBECONFIG: in a pod the in-cluster ServiceAccount is used.
    expect(notSettable).toEqual(["KUBECONFIG"]);
  });

  it("renders configurations the operator accepts, with the values given", () => {
    const base = loadConfig([], podEnvironment(objectsOf("default-values.yaml"), ns));
    expect(base.namespaces).toEqual([]);
    expect(base.nats.servers).toEqual(["nats://nats:4222"]);
    expect(base.leaderElection).toMatchObject({
      enabled: true,
      namespace: ns,
      name: "hs-hookstream",
      identity: "hookstream-7d9f-abcde",
    });
    expect(base.subjectPolicyFile).toBeUndefined();
    expect(base.logLevel).toBe("info");

    const wide = loadConfig([], podEnvironment(objectsOf("cluster-wide-values.yaml"), ns));
    expect(wide.logLevel).toBe("debug");
    expect(wide.nats.servers).toEqual(["tls://nats-0.nats.nats.svc:4222", "tls://nats-1.nats.nats.svc:4222"]);
    expect(wide.nats.token).toBe("from-secret-token");
    expect(wide.streams).toMatchObject({
      stream: "EVENTS",
      subjects: ["shop.>", "billing.>"],
      maxAgeMs: 24 * 3600_000,
      retention: "interest",
      replicas: 3,
    });
    expect(wide.ssrfAllow).toEqual(["10.96.0.0/12"]);

    const scoped = loadConfig([], podEnvironment(objectsOf("namespaced-values.yaml"), ns));
    expect(scoped.namespaces).toEqual(["team-a", "team-b"]);
    expect(scoped.nats.credsFile).toBeDefined();

    const single = loadConfig([], podEnvironment(objectsOf("single-replica-values.yaml"), ns));
    expect(single.leaderElection.enabled).toBe(false);
    expect(single.nats.user).toBe("from-secret-username");
    expect(single.nats.password).toBe("from-secret-password");
    expect(single.nats.tlsCaFile).toBeDefined();
    expect(single.nats.tlsCertFile).toBeUndefined();
  });

  it("mounts every file the configuration names from the Secret or ConfigMap it comes from", () => {
    const wide = objectsOf("cluster-wide-values.yaml");
    const env = podEnvironment(wide, ns);
    expect(fileSource(wide, env.NATS_TLS_CA!)).toEqual({
      kind: "secret",
      name: "hookstream-nats-tls",
      key: "ca.crt",
    });
    expect(fileSource(wide, env.NATS_TLS_CERT!)).toEqual({
      kind: "secret",
      name: "hookstream-nats-tls",
      key: "tls.crt",
    });
    expect(fileSource(wide, env.NATS_TLS_KEY!)).toEqual({
      kind: "secret",
      name: "hookstream-nats-tls",
      key: "tls.key",
    });
    const token = envOf(wide).get("NATS_TOKEN")?.valueFrom?.secretKeyRef;
    expect(token).toEqual({ name: "hookstream-nats", key: "token" });

    const policyFile = fileSource(wide, env.HOOKSTREAM_SUBJECT_POLICY!);
    expect(policyFile.kind).toBe("configMap");
    const cm = one(wide, "ConfigMap", policyFile.name) as unknown as { data: Record<string, string> };
    const policy = parsePolicy(cm.data[policyFile.key]!, "rendered policy");
    expect(policy.allowedFor("billing")).toEqual(["billing.>", "shop.orders.*.paid"]);
    expect(policy.allowedFor("shop")).toEqual(["shop.>"]);
    expect(policy.allowedFor("elsewhere")).toEqual([]);

    const scoped = objectsOf("namespaced-values.yaml");
    expect(fileSource(scoped, podEnvironment(scoped, ns).NATS_CREDS!)).toEqual({
      kind: "secret",
      name: "hookstream-nats-creds",
      key: "hookstream.creds",
    });
    const single = objectsOf("single-replica-values.yaml");
    const singleEnv = podEnvironment(single, ns);
    expect(fileSource(single, singleEnv.NATS_TLS_CA!)).toEqual({
      kind: "secret",
      name: "nats-ca",
      key: "ca.crt",
    });
    expect(singleEnv.NATS_TLS_CERT).toBeUndefined();
    expect(envOf(single).get("NATS_USER")?.valueFrom?.secretKeyRef).toEqual({
      name: "hookstream-nats",
      key: "username",
    });
    // Without a policy there is no ConfigMap, no mount and no variable.
    expect(find(objectsOf("default-values.yaml"), "ConfigMap")).toEqual([]);
  });

  it("rolls the pods when the subject policy changes", async () => {
    const checksum = async (pattern: string) => {
      const { objects } = await helmTemplate("hs", ns, [
        "--set-json",
        `subjectPolicy={"default":["${pattern}"]}`,
      ]);
      return deploymentOf(objects).spec?.template.metadata?.annotations?.["checksum/subject-policy"];
    };
    const a = await checksum("a.>");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksum("a.>")).toBe(a);
    expect(await checksum("b.>")).not.toBe(a);
  });

  it("spreads two replicas over nodes and protects them with a PodDisruptionBudget", () => {
    const objects = objectsOf("default-values.yaml");
    const spec = deploymentOf(objects).spec!;
    expect(spec.replicas).toBe(2);
    const preferred =
      spec.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    expect(preferred).toEqual([
      {
        weight: 100,
        podAffinityTerm: {
          topologyKey: "kubernetes.io/hostname",
          labelSelector: { matchLabels: spec.selector.matchLabels },
        },
      },
    ]);
    const pdb = one(objects, "PodDisruptionBudget") as unknown as { spec: Record<string, unknown> };
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: spec.selector.matchLabels } });
  });

  it("renders no PodDisruptionBudget for a single replica, nor when disabled", async () => {
    expect(find(objectsOf("single-replica-values.yaml"), "PodDisruptionBudget")).toEqual([]);
    const { objects } = await helmTemplate("hs", ns, ["--set", "podDisruptionBudget.enabled=false"]);
    expect(find(objects, "PodDisruptionBudget")).toEqual([]);
  });

  it("grants exactly the operator's API calls by default: a ClusterRole, and a Lease Role in its namespace", () => {
    const objects = objectsOf("default-values.yaml");
    expect(rulesOf(one(objects, "ClusterRole", "hs-hookstream"))).toEqual(EXPECTED_WATCH_RULES);
    const crb = one(objects, "ClusterRoleBinding", "hs-hookstream") as unknown as Record<string, unknown>;
    expect(crb.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "hs-hookstream",
    });
    expect(crb.subjects).toEqual([{ kind: "ServiceAccount", name: "hs-hookstream", namespace: ns }]);
    const roles = find(objects, "Role");
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual([
      `${ns}/hs-hookstream-leader-election`,
    ]);
    const lease = loadConfig([], podEnvironment(objects, ns)).leaderElection.name;
    expect(rulesOf(roles[0]!)).toEqual(expectedLeaseRules(lease));
  });

  it("grants only in the watched namespaces when watchNamespaces is set, and nothing cluster-wide", () => {
    const objects = objectsOf("namespaced-values.yaml");
    expect(find(objects, "ClusterRole")).toEqual([]);
    expect(find(objects, "ClusterRoleBinding")).toEqual([]);
    const roles = find(objects, "Role");
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort()).toEqual(
      [`${ns}/hs-hookstream-leader-election`, "team-a/hs-hookstream", "team-b/hs-hookstream"].sort(),
    );
    for (const team of ["team-a", "team-b"]) {
      const role = roles.find((r) => r.metadata.namespace === team)!;
      expect(rulesOf(role)).toEqual(EXPECTED_WATCH_RULES);
      const binding = find(objects, "RoleBinding").find(
        (b) => b.metadata.namespace === team,
      ) as unknown as Record<string, unknown>;
      expect(binding.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "hs-hookstream",
      });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "hs-hookstream", namespace: ns }]);
    }
  });

  it("renders no Lease Role without leader election", () => {
    const objects = objectsOf("single-replica-values.yaml");
    expect(find(objects, "Role")).toEqual([]);
    expect(envOf(objects).get("HOOKSTREAM_LEADER_ELECT")?.value).toBe("false");
  });

  it("renders a ServiceMonitor only when asked, selecting the metrics Service", () => {
    const wide = objectsOf("cluster-wide-values.yaml");
    const sm = one(wide, "ServiceMonitor") as unknown as {
      metadata: { labels: Record<string, string> };
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    };
    expect(sm.metadata.labels.release).toBe("prometheus");
    expect(sm.spec.endpoints).toMatchObject([{ port: "http-metrics", path: "/metrics" }]);
    expect(one(wide, "Service").metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    for (const file of ["default-values.yaml", "namespaced-values.yaml", "single-replica-values.yaml"]) {
      expect(find(objectsOf(file), "ServiceMonitor")).toEqual([]);
    }
  });

  it("renders a NetworkPolicy only when asked: metrics from the listed peers, egress as given", () => {
    const np = one(objectsOf("namespaced-values.yaml"), "NetworkPolicy") as unknown as {
      spec: { policyTypes: string[]; ingress: { from: unknown[]; ports: unknown[] }[]; egress: unknown[] };
    };
    expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.spec.ingress).toHaveLength(1);
    expect(np.spec.ingress[0]!.ports).toEqual([{ port: "http-metrics", protocol: "TCP" }]);
    expect(np.spec.ingress[0]!.from).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
      },
    ]);
    expect(np.spec.egress).toHaveLength(2);
    for (const file of ["default-values.yaml", "cluster-wide-values.yaml", "single-replica-values.yaml"]) {
      expect(find(objectsOf(file), "NetworkPolicy")).toEqual([]);
    }
  });

  it("allows all egress and denies all ingress when enabled without rules", async () => {
    const { objects } = await helmTemplate("hs", ns, ["--set", "networkPolicy.enabled=true"]);
    const np = one(objects, "NetworkPolicy") as unknown as { spec: Record<string, unknown> };
    expect(np.spec.policyTypes).toEqual(["Ingress"]);
    expect(np.spec.ingress).toEqual([]);
    expect(np.spec.egress).toBeUndefined();
  });

  it("labels every object with the release", () => {
    for (const objects of rendered.values()) {
      for (const o of objects) {
        expect([o.kind, o.metadata.labels?.["app.kubernetes.io/instance"]]).toEqual([o.kind, "hs"]);
      }
    }
  });
});

describe("chart: server-side dry runs on the bed's API server", () => {
  let kubectl: Kubectl;
  beforeAll(async () => {
    kubectl = new Kubectl();
    // The bed has no Prometheus operator: a subset of its ServiceMonitor CRD lets the API server check ours.
    await kubectl.ok([
      "apply",
      "--server-side",
      "--field-manager=hookstream-chart-test",
      "-f",
      join(REPO_ROOT, "test/integration/chart/fixtures/servicemonitor-crd.yaml"),
    ]);
    await kubectl.ok([
      "wait",
      "--for=condition=Established",
      "--timeout=30s",
      "crd/servicemonitors.monitoring.coreos.com",
    ]);
    for (const team of ["team-a", "team-b"]) await kubectl.namespace(team);
  });

  it.each(CI_FILES)("accepts every object rendered from ci/%s", async (file) => {
    const ns = uniqueName("chart-dry");
    await kubectl.namespace(ns);
    const { text, objects } = await helmTemplate("hs", ns, ["-f", join(CI_DIR, file)]);
    const r = await kubectl.run(["apply", "--dry-run=server", "-f", "-"], text);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const accepted = r.stdout.split("\n").filter((l) => l.endsWith("(server dry run)"));
    expect(accepted).toHaveLength(objects.length);
  });

  it("notices a Pod Security violation in that namespace (so the check above can fail)", async () => {
    const ns = uniqueName("chart-psa");
    await kubectl.namespace(ns);
    const privileged = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "privileged", namespace: ns },
      spec: {
        selector: { matchLabels: { app: "p" } },
        template: {
          metadata: { labels: { app: "p" } },
          spec: { containers: [{ name: "p", image: "busybox", securityContext: { privileged: true } }] },
        },
      },
    };
    const r = await kubectl.run(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(privileged));
    expect(r.stderr).toContain('would violate PodSecurity "restricted:latest"');
  });

  it("rejects a rendered object the API server does not know a field of", async () => {
    const ns = uniqueName("chart-bad");
    await kubectl.namespace(ns);
    const { text } = await helmTemplate("hs", ns, ["-f", join(CI_DIR, "cluster-wide-values.yaml")]);
    const broken = text.replace("\n  endpoints:\n", "\n  endpoint:\n");
    expect(broken).not.toBe(text);
    const r = await kubectl.run(["apply", "--dry-run=server", "-f", "-"], broken);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown field "spec.endpoint"/);
  });
});

describe("chart: install, RBAC and uninstall on the bed", () => {
  let kubectl: Kubectl;
  beforeAll(() => {
    kubectl = new Kubectl();
  });

  const resourcesByRelease = async (release: string): Promise<string[]> => {
    const selector = `app.kubernetes.io/instance=${release}`;
    const namespaced = await kubectl.ok([
      "get",
      "serviceaccounts,deployments,services,configmaps,roles,rolebindings,networkpolicies,poddisruptionbudgets",
      "--all-namespaces",
      "-l",
      selector,
      "-o",
      "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{'\\n'}{end}",
    ]);
    const cluster = await kubectl.ok([
      "get",
      "clusterroles,clusterrolebindings",
      "-l",
      selector,
      "-o",
      "jsonpath={range .items[*]}{.kind}/{.metadata.name}{'\\n'}{end}",
    ]);
    return `${namespaced}${cluster}`
      .split("\n")
      .filter((l) => l !== "")
      .sort();
  };

  it("installs with default values; the ServiceAccount can do exactly what the operator does", async () => {
    const ns = uniqueName("chart-rbac");
    const other = uniqueName("chart-other");
    const tenant = uniqueName("chart-tenant");
    for (const n of [ns, other, tenant]) await kubectl.namespace(n);
    const release = uniqueName("hs");
    await runOk(helmBinary(), [
      "install",
      release,
      CHART,
      "--namespace",
      ns,
      `--kubeconfig=${bedKubeconfig()}`,
      "--set-json",
      'subjectPolicy={"namespaces":{"shop":["shop.>"]}}',
      "--set",
      "networkPolicy.enabled=true",
    ]);
    const fullname = `${release}-hookstream`;
    const sa = { namespace: ns, name: fullname };
    const can = (...args: string[]) => kubectl.canI(sa, args);
    const whs = "webhooksubscriptions.hookstream.io";

    const allowed: [string, string[]][] = [
      ["get subscriptions anywhere", ["get", whs, "-n", tenant]],
      ["list subscriptions cluster-wide", ["list", whs, "--all-namespaces"]],
      ["watch subscriptions cluster-wide", ["watch", whs, "--all-namespaces"]],
      ["patch subscription status", ["patch", whs, "--subresource=status", "-n", tenant]],
      ["list secrets cluster-wide", ["list", "secrets", "--all-namespaces"]],
      ["watch secrets cluster-wide", ["watch", "secrets", "--all-namespaces"]],
      ["create events", ["create", "events", "-n", tenant]],
      ["get its lease", ["get", `leases.coordination.k8s.io/${fullname}`, "-n", ns]],
      ["update its lease", ["update", `leases.coordination.k8s.io/${fullname}`, "-n", ns]],
      ["create a lease in its namespace", ["create", "leases.coordination.k8s.io", "-n", ns]],
    ];
    const denied: [string, string[]][] = [
      ["get one secret (it only lists and watches)", ["get", "secrets", "-n", tenant]],
      ["create secrets", ["create", "secrets", "-n", tenant]],
      ["update secrets", ["update", "secrets", "-n", tenant]],
      ["patch secrets", ["patch", "secrets", "-n", tenant]],
      ["delete secrets", ["delete", "secrets", "-n", tenant]],
      ["create pods", ["create", "pods", "-n", ns]],
      ["create pods elsewhere", ["create", "pods", "-n", tenant]],
      ["create subscriptions", ["create", whs, "-n", tenant]],
      ["update subscriptions (spec)", ["update", whs, "-n", tenant]],
      ["patch subscriptions (spec)", ["patch", whs, "-n", tenant]],
      ["delete subscriptions", ["delete", whs, "-n", tenant]],
      ["update subscription status (patch only)", ["update", whs, "--subresource=status", "-n", tenant]],
      ["patch events", ["patch", "events", "-n", tenant]],
      ["create leases in another namespace", ["create", "leases.coordination.k8s.io", "-n", other]],
      ["get another lease", ["get", "leases.coordination.k8s.io/someone-else", "-n", ns]],
      ["update another lease", ["update", "leases.coordination.k8s.io/someone-else", "-n", ns]],
      ["delete its lease", ["delete", `leases.coordination.k8s.io/${fullname}`, "-n", ns]],
      ["list leases", ["list", "leases.coordination.k8s.io", "-n", ns]],
      ["get configmaps cluster-wide", ["get", "configmaps", "--all-namespaces"]],
      ["list configmaps cluster-wide", ["list", "configmaps", "--all-namespaces"]],
      ["create clusterrolebindings", ["create", "clusterrolebindings.rbac.authorization.k8s.io"]],
      ["create rolebindings", ["create", "rolebindings.rbac.authorization.k8s.io", "-n", ns]],
      ["create namespaces", ["create", "namespaces"]],
      ["update deployments", ["update", "deployments.apps", "-n", ns]],
    ];
    const answers = await Promise.all(
      [...allowed, ...denied].map(async ([what, args]) => [what, await can(...args)] as const),
    );
    expect(answers).toEqual([
      ...allowed.map(([what]) => [what, true]),
      ...denied.map(([what]) => [what, false]),
    ]);

    // Everything the release created carries its label (the check below would see a leftover).
    expect(await resourcesByRelease(release)).toEqual(
      [
        `ClusterRole/${fullname}`,
        `ClusterRoleBinding/${fullname}`,
        `ConfigMap/${ns}/${fullname}-subject-policy`,
        `Deployment/${ns}/${fullname}`,
        `NetworkPolicy/${ns}/${fullname}`,
        `PodDisruptionBudget/${ns}/${fullname}`,
        `Role/${ns}/${fullname}-leader-election`,
        `RoleBinding/${ns}/${fullname}-leader-election`,
        `Service/${ns}/${fullname}-metrics`,
        `ServiceAccount/${ns}/${fullname}`,
      ].sort(),
    );

    await runOk(helmBinary(), ["uninstall", release, "--namespace", ns, `--kubeconfig=${bedKubeconfig()}`]);
    expect(await resourcesByRelease(release)).toEqual([]);
    // Helm's own release records are gone too.
    expect(
      await kubectl.ok(["get", "secrets", "-n", ns, "-l", `owner=helm,name=${release}`, "-o", "name"]),
    ).toBe("");
    // The CRD stays: Helm never deletes what it installed from crds/.
    expect(await kubectl.ok(["get", "crd", "webhooksubscriptions.hookstream.io", "-o", "name"])).toBe(
      "customresourcedefinition.apiextensions.k8s.io/webhooksubscriptions.hookstream.io\n",
    );
    expect(await kubectl.canI(sa, ["list", whs, "--all-namespaces"])).toBe(false);
  });

  it("with watchNamespaces, grants access in those namespaces only", async () => {
    const ns = uniqueName("chart-scoped");
    const [a, b, c] = [uniqueName("chart-a"), uniqueName("chart-b"), uniqueName("chart-c")];
    for (const n of [ns, a, b, c]) await kubectl.namespace(n);
    const release = uniqueName("hs");
    await runOk(helmBinary(), [
      "install",
      release,
      CHART,
      "--namespace",
      ns,
      `--kubeconfig=${bedKubeconfig()}`,
      "--set-json",
      `watchNamespaces=${JSON.stringify([a, b])}`,
    ]);
    const fullname = `${release}-hookstream`;
    const sa = { namespace: ns, name: fullname };
    const whs = "webhooksubscriptions.hookstream.io";
    const checks: [string, string[], boolean][] = [];
    for (const [n, inside] of [
      [a, true],
      [b, true],
      [c, false],
    ] as const) {
      checks.push(
        [`list secrets in ${n}`, ["list", "secrets", "-n", n], inside],
        [`watch secrets in ${n}`, ["watch", "secrets", "-n", n], inside],
        [`list subscriptions in ${n}`, ["list", whs, "-n", n], inside],
        [`patch status in ${n}`, ["patch", whs, "--subresource=status", "-n", n], inside],
        [`create events in ${n}`, ["create", "events", "-n", n], inside],
        [`delete secrets in ${n}`, ["delete", "secrets", "-n", n], false],
      );
    }
    checks.push(
      ["list secrets cluster-wide", ["list", "secrets", "--all-namespaces"], false],
      ["list subscriptions cluster-wide", ["list", whs, "--all-namespaces"], false],
      ["update its lease", ["update", `leases.coordination.k8s.io/${fullname}`, "-n", ns], true],
      ["list secrets in its own namespace", ["list", "secrets", "-n", ns], false],
    );
    const answers = await Promise.all(
      checks.map(async ([what, args]) => [what, await kubectl.canI(sa, args)]),
    );
    expect(answers).toEqual(checks.map(([what, , expected]) => [what, expected]));

    await runOk(helmBinary(), ["uninstall", release, "--namespace", ns, `--kubeconfig=${bedKubeconfig()}`]);
    expect(await resourcesByRelease(release)).toEqual([]);
  });
});

describe("deploy/hookstream.yaml", () => {
  let kubectl: Kubectl;
  beforeAll(() => {
    kubectl = new Kubectl();
  });
  const gen = (args: string[]) =>
    run(process.execPath, ["--import", "tsx", "hack/gen-deploy.ts", ...args], {
      env: { ...process.env, HELM: helmBinary() },
    });

  it("is what hack/gen-deploy.ts renders from the chart (run `npm run gen:deploy` after chart changes)", async () => {
    const r = await gen(["--check"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("--check fails on a stale or missing file", async () => {
    const stale = join(SCRATCH, "stale.yaml");
    writeFileSync(
      stale,
      readFileSync(join(REPO_ROOT, "deploy/hookstream.yaml"), "utf8").replace("replicas: 2", "replicas: 3"),
    );
    const r = await gen(["--check", "--out", stale]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is stale");
    const missing = await gen(["--check", "--out", join(SCRATCH, "missing.yaml")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("is missing");
  });

  it("starts with a generated-file header, then the Namespace, then the CRD", () => {
    const text = readFileSync(join(REPO_ROOT, "deploy/hookstream.yaml"), "utf8");
    expect(text.startsWith("# Generated by hack/gen-deploy.ts")).toBe(true);
    expect(text).toContain("npm run gen:deploy");
    const kinds = [...text.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
    expect(kinds.slice(0, 2)).toEqual(["Namespace", "CustomResourceDefinition"]);
    expect(kinds).toEqual(expect.arrayContaining(["Deployment", "ClusterRole", "ServiceAccount", "Service"]));
  });

  it("is accepted by the API server as a whole", async () => {
    const text = readFileSync(join(REPO_ROOT, "deploy/hookstream.yaml"), "utf8");
    const namespaceDoc = text.split(/^---$/m).find((d) => /^kind: Namespace$/m.test(d));
    // A dry-run Namespace is not created, and the objects in it need it: create it for real first.
    await kubectl.ok(
      ["apply", "--server-side", "--field-manager=hookstream-chart-test", "-f", "-"],
      namespaceDoc,
    );
    const r = await kubectl.run(
      ["apply", "--server-side", "--dry-run=server", "--field-manager=hookstream-chart-test", "-f", "-"],
      text,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const docs = text.split(/^---$/m).filter((d) => /^kind: /m.test(d));
    expect(r.stdout.split("\n").filter((l) => l.endsWith("(server dry run)"))).toHaveLength(docs.length);
  });
});

function bedKubeconfig(): string {
  return bedEnv("HOOKSTREAM_TEST_KUBECONFIG");
}
