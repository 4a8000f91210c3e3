import { describe, expect, it } from "@jest/globals";
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  VersionApi,
  Watch,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { bedKubeConfig, uniqueName } from "../env.js";

const GROUP = "hookstream.io";
const VERSION = "v1alpha1";
const PLURAL = "webhooksubscriptions";

describe("test bed: real kube-apiserver and etcd", () => {
  const kc = bedKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  it("reports the real built version", async () => {
    const v = await kc.makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(v.gitTreeState).toBe("clean");
  });

  it("creates, watches and status-patches a custom resource", async () => {
    const ns = uniqueName("bed");
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const seen: string[] = [];
    const watch = new Watch(kc);
    const gotModified = new Promise<void>((resolve, reject) => {
      void watch
        .watch(
          `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`,
          {},
          (phase, obj: { status?: { endpointState?: string } }) => {
            seen.push(phase);
            if (phase === "MODIFIED" && obj.status?.endpointState === "Active") resolve();
          },
          (err) => {
            if (err) reject(err as Error);
          },
        )
        .then((req) => gotModified.finally(() => req.abort()).catch(() => {}));
    });
    // Give the watch a moment to be established before the create.
    await new Promise((r) => setTimeout(r, 300));
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: PLURAL,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "WebhookSubscription",
        metadata: { name: "demo" },
        spec: { subjects: ["shop.orders.created"], endpoint: { url: "https://example.invalid/hook" } },
      },
    });
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: PLURAL,
        name: "demo",
        body: { status: { endpointState: "Active" } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await gotModified;
    expect(seen).toContain("ADDED");
    const obj = (await custom.getNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: PLURAL,
      name: "demo",
    })) as { status?: { endpointState?: string } };
    expect(obj.status?.endpointState).toBe("Active");
  });

  it("rejects a resource that breaks the schema, naming the field", async () => {
    const err = await custom
      .createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: "default",
        plural: PLURAL,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: "WebhookSubscription",
          metadata: { name: uniqueName("bad") },
          spec: { subjects: [], endpoint: { url: "https://example.invalid/hook" } },
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: string },
      );
    expect(err?.code).toBe(422);
    expect(String(err?.body)).toContain("spec.subjects");
  });
});
