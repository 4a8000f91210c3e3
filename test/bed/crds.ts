import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import { parseAllDocuments } from "yaml";

/** The part of a manifest the bed needs to find its REST path. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** Every YAML document in a folder, in file-name order. */
export function readManifests(dir: string): Manifest[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as Manifest))
    .filter((o) => o && typeof o === "object");
}

const PLURALS: Record<string, string> = {
  CustomResourceDefinition: "customresourcedefinitions",
  Namespace: "namespaces",
  Secret: "secrets",
  WebhookSubscription: "webhooksubscriptions",
};

/**
 * Server-side apply of raw manifests. Raw on purpose: client-node's typed serializer drops fields it
 * has no model property for (x-kubernetes-preserve-unknown-fields, x-kubernetes-validations).
 */
export async function applyRaw(
  kube: { url: string; token: string; caFile: string },
  objects: Manifest[],
): Promise<void> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(kube.caFile) } });
  try {
    for (const obj of objects) {
      const plural = PLURALS[obj.kind];
      if (!plural) throw new Error(`the bed cannot apply kind ${obj.kind}`);
      const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
      const ns = obj.metadata.namespace ? `/namespaces/${obj.metadata.namespace}` : "";
      const path = `${base}${ns}/${plural}/${obj.metadata.name}?fieldManager=hookstream-testbed&force=true`;
      const res = await request(`${kube.url}${path}`, {
        method: "PATCH",
        dispatcher,
        headers: { authorization: `Bearer ${kube.token}`, "content-type": "application/apply-patch+yaml" },
        body: JSON.stringify(obj),
      });
      const text = await res.body.text();
      if (res.statusCode >= 300)
        throw new Error(`apply ${obj.kind} ${obj.metadata.name}: ${res.statusCode} ${text}`);
    }
  } finally {
    await dispatcher.close();
  }
}

interface CrdManifest extends Manifest {
  spec: {
    group: string;
    names: { plural: string; kind: string };
    versions: { name: string; storage: boolean }[];
  };
}

/**
 * Applies crds/ and waits until each CRD can be used. Established is not enough: the watch cache
 * answers 429 while it initialises, and a list at resourceVersion=0 is served from that cache, so
 * its success means watches work too.
 */
export async function installCrds(
  kube: { url: string; token: string; caFile: string },
  dir: string,
  timeoutMs = 30_000,
): Promise<string[]> {
  const crds = readManifests(dir) as CrdManifest[];
  await applyRaw(kube, crds);
  const dispatcher = new Agent({ connect: { ca: readFileSync(kube.caFile) } });
  const deadline = Date.now() + timeoutMs;
  try {
    for (const crd of crds) {
      const version = crd.spec.versions.find((v) => v.storage)?.name ?? "";
      const url = `${kube.url}/apis/${crd.spec.group}/${version}/${crd.spec.names.plural}?resourceVersion=0&limit=1`;
      for (;;) {
        const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${kube.token}` } });
        await res.body.dump();
        if (res.statusCode === 200) break;
        if (Date.now() > deadline)
          throw new Error(`CRD ${crd.metadata.name} not servable after ${timeoutMs} ms`);
        await sleep(100);
      }
      // The first create of a new kind takes the API server about 2 s; a dry-run create pays that
      // here, once, instead of inside a timed test. It must be valid to reach that path.
      const warm = await request(
        `${kube.url}/apis/${crd.spec.group}/${version}/namespaces/default/${crd.spec.names.plural}?dryRun=All`,
        {
          method: "POST",
          dispatcher,
          headers: { authorization: `Bearer ${kube.token}`, "content-type": "application/json" },
          body: JSON.stringify({
            apiVersion: `${crd.spec.group}/${version}`,
            kind: crd.spec.names.kind,
            metadata: { name: "testbed-warm-up" },
            spec: { subjects: ["testbed.warmup"], endpoint: { url: "https://warm-up.example.com/" } },
          }),
        },
      );
      const text = await warm.body.text();
      if (warm.statusCode >= 300) throw new Error(`warm-up create of ${crd.spec.names.kind}: ${text}`);
    }
  } finally {
    await dispatcher.close();
  }
  return crds.map((c) => c.metadata.name);
}
