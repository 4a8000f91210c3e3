import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, KIND, type WebhookSubscription } from "../api/types.js";
import type { Logger } from "../observability/logger.js";

export type EventType = "Normal" | "Warning";

/** Records Kubernetes Events on a subscription, so `kubectl describe whs` tells its story. */
export interface EventRecorder {
  record(obj: WebhookSubscription, type: EventType, reason: string, message: string): void;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly api: CoreV1Api;
  constructor(
    kc: KubeConfig,
    private readonly log: Logger,
    private readonly component = "hookstream",
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  record(obj: WebhookSubscription, type: EventType, reason: string, message: string): void {
    const namespace = obj.metadata.namespace ?? "default";
    const now = new Date();
    this.api
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${obj.metadata.name}.`, namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: KIND,
            name: obj.metadata.name,
            namespace,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component: this.component },
        },
      })
      .catch((err: unknown) =>
        this.log.warn(
          { subscription: `${namespace}/${obj.metadata.name}`, reason, err: (err as Error).message },
          "could not record event",
        ),
      );
  }
}
