import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

/** Every YAML document in a folder, in file-name order. */
export function readManifests(dir: string): KubernetesObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as KubernetesObject))
    .filter((o) => o && typeof o === "object");
}

/** Creates or replaces each object (server-side apply semantics are not needed for the bed). */
export async function applyObjects(kubeconfig: string, objects: KubernetesObject[]): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    try {
      await api.create(obj);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      const existing = await api.read(obj as KubernetesObject & { metadata: { name: string } });
      obj.metadata = { ...obj.metadata, resourceVersion: existing.metadata?.resourceVersion };
      await api.replace(obj);
    }
  }
}

/** Applies crds/ and waits until each CRD is Established, so its resources can be used at once. */
export async function installCrds(kubeconfig: string, dir: string, timeoutMs = 30_000): Promise<string[]> {
  const crds = readManifests(dir) as V1CustomResourceDefinition[];
  await applyObjects(kubeconfig, crds);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names = crds.map((c) => c.metadata?.name ?? "");
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  return names;
}
