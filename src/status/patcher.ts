import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../api/types.js";
import type { StatusPatcher } from "./writer.js";

/**
 * Merge-patches a subscription's /status subresource. A merge patch carries no resourceVersion, so
 * it cannot conflict with spec edits; the operator owns the whole status, so overwriting is right.
 */
export function kubeStatusPatcher(kc: KubeConfig): StatusPatcher {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async (key, status) => {
    const [namespace = "", name = ""] = key.split("/");
    try {
      await api.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      return "ok";
    } catch (err) {
      if ((err as { code?: number }).code === 404) return "gone";
      throw err;
    }
  };
}
