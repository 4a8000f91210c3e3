import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type WebhookSubscription } from "../api/types.js";
import type { ListPage, ReflectorSource } from "./reflector.js";

/**
 * Secrets the operator never needs and that can be large or numerous: Helm release records and
 * legacy service-account tokens. Excluding them server-side keeps the cache small.
 */
export const SECRET_FIELD_SELECTOR = "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token";

/** One source per watched namespace, or one for the whole cluster when namespaces is empty. */
export function subscriptionSources(
  kc: KubeConfig,
  namespaces: string[],
): ReflectorSource<WebhookSubscription>[] {
  const api = kc.makeApiClient(CustomObjectsApi);
  if (namespaces.length === 0) {
    return [
      {
        name: PLURAL,
        watchPath: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        list: ({ limit, continueToken }) =>
          api.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            limit,
            _continue: continueToken,
          }) as Promise<ListPage<WebhookSubscription>>,
      },
    ];
  }
  return namespaces.map((namespace) => ({
    name: `${PLURAL}/${namespace}`,
    watchPath: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    list: ({ limit, continueToken }) =>
      api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        limit,
        _continue: continueToken,
      }) as Promise<ListPage<WebhookSubscription>>,
  }));
}

export function secretSources(kc: KubeConfig, namespaces: string[]): ReflectorSource<V1Secret>[] {
  const api = kc.makeApiClient(CoreV1Api);
  const fieldSelector = SECRET_FIELD_SELECTOR;
  if (namespaces.length === 0) {
    return [
      {
        name: "secrets",
        watchPath: "/api/v1/secrets",
        watchQuery: { fieldSelector },
        list: ({ limit, continueToken }) =>
          api.listSecretForAllNamespaces({ limit, _continue: continueToken, fieldSelector }),
      },
    ];
  }
  return namespaces.map((namespace) => ({
    name: `secrets/${namespace}`,
    watchPath: `/api/v1/namespaces/${namespace}/secrets`,
    watchQuery: { fieldSelector },
    list: ({ limit, continueToken }) =>
      api.listNamespacedSecret({ namespace, limit, _continue: continueToken, fieldSelector }),
  }));
}
