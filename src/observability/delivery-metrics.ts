import type { PipelineMetrics } from "../delivery/pipeline.js";
import type { IngestMetrics } from "../ingest/runner.js";
import type { OperatorMetrics } from "./metrics.js";

/**
 * The delivery path's metrics, with each labelled child looked up once and kept: prom-client hashes
 * the label set on every `inc({..})`, which would otherwise be paid for every delivery and message.
 */
export function deliveryMetrics(m: OperatorMetrics): PipelineMetrics & IngestMetrics {
  const attempts = cached((key: string) => {
    const [subscription = "", result = ""] = key.split("\0");
    return m.attempts.labels(subscription, result);
  });
  const durations = cached((result: string) => m.attemptSeconds.labels(result));
  const pulled = cached((kind: string) => m.pulled.labels(kind));
  return {
    attempt(subscription, result, seconds) {
      attempts(`${subscription}\0${result}`).inc();
      durations(result).observe(seconds);
    },
    retryScheduled: (subscription) => m.retriesScheduled.inc({ subscription }),
    deadLettered: (subscription, reason) => m.deadLetters.inc({ subscription, reason }),
    filterError: (subscription) => m.filterErrors.inc({ subscription }),
    breaker: (subscription, open) => m.breakerOpen.set({ subscription }, open ? 1 : 0),
    pulled: (kind) => pulled(kind).inc(),
    lag: (kind, pending) => m.consumerPending.set({ kind }, pending),
  };
}

function cached<T>(make: (key: string) => T): (key: string) => T {
  const children = new Map<string, T>();
  return (key) => {
    let c = children.get(key);
    if (c === undefined) {
      c = make(key);
      children.set(key, c);
    }
    return c;
  };
}
