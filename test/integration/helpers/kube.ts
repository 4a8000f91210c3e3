import { CoreV1Api, CustomObjectsApi, type CoreV1Event, type KubeConfig } from "@kubernetes/client-node";
import { generateSecret } from "../../../src/signing/index.js";
import {
  GROUP,
  PLURAL,
  VERSION,
  type WebhookSubscription,
  type WebhookSubscriptionSpec,
} from "../../../src/api/types.js";
import { bedKubeConfig, uniqueName } from "../env.js";

/** Small typed helpers over the real API server, for tests. */
export class KubeHelper {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig = bedKubeConfig()) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async namespace(prefix = "t"): Promise<string> {
    const name = uniqueName(prefix);
    await this.core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  async secret(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    const body = { metadata: { name, namespace }, stringData: data };
    try {
      await this.core.createNamespacedSecret({ namespace, body });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      await this.core.replaceNamespacedSecret({ namespace, name, body });
    }
  }

  async signingSecret(namespace: string, name: string): Promise<string> {
    const secret = generateSecret();
    await this.secret(namespace, name, { secret });
    return secret;
  }

  async createSubscription(
    namespace: string,
    name: string,
    spec: WebhookSubscriptionSpec,
  ): Promise<WebhookSubscription> {
    return (await this.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: "WebhookSubscription", metadata: { name }, spec },
    })) as WebhookSubscription;
  }

  async getSubscription(namespace: string, name: string): Promise<WebhookSubscription> {
    return (await this.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name,
    })) as WebhookSubscription;
  }

  async updateSpec(
    namespace: string,
    name: string,
    change: (spec: WebhookSubscriptionSpec) => void,
  ): Promise<void> {
    const obj = await this.getSubscription(namespace, name);
    change(obj.spec);
    await this.custom.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name,
      body: obj,
    });
  }

  async deleteSubscription(namespace: string, name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name,
    });
  }

  async ready(
    namespace: string,
    name: string,
  ): Promise<{
    status?: string;
    reason?: string;
    message?: string;
    generation?: number;
    observedGeneration?: number;
  }> {
    const obj = await this.getSubscription(namespace, name);
    const c = obj.status?.conditions?.find((x) => x.type === "Ready");
    return {
      status: c?.status,
      reason: c?.reason,
      message: c?.message,
      generation: obj.metadata.generation,
      observedGeneration: obj.status?.observedGeneration,
    };
  }

  async events(namespace: string, name: string): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${name}`,
    });
    return list.items;
  }
}

export function simpleSpec(
  url = "https://receiver.example.com/hooks",
  extra: Partial<WebhookSubscriptionSpec> = {},
): WebhookSubscriptionSpec {
  return {
    subjects: ["shop.orders.created", "shop.orders.*.paid"],
    endpoint: { url },
    signing: { secretRef: { name: "hook-secret" } },
    ...extra,
  };
}
