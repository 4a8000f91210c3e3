import { describe, expect, it } from "@jest/globals";
import { Registry } from "prom-client";
import { deliveryMetrics } from "../../../src/observability/delivery-metrics.js";
import { OperatorMetrics } from "../../../src/observability/metrics.js";

describe("delivery metrics with cached label children", () => {
  it("counts each subscription and result separately, however often a child is reused", async () => {
    const registry = new Registry();
    const m = deliveryMetrics(new OperatorMetrics(registry));
    for (let i = 0; i < 3; i++) m.attempt("ns/a", "success", 0.002);
    m.attempt("ns/a", "retry", 0.5);
    m.attempt("ns/b", "success", 0.002);
    m.pulled("event");
    m.pulled("event");
    m.pulled("retry");
    const text = await registry.metrics();
    expect(text).toContain('hookstream_delivery_attempts_total{subscription="ns/a",result="success"} 3');
    expect(text).toContain('hookstream_delivery_attempts_total{subscription="ns/a",result="retry"} 1');
    expect(text).toContain('hookstream_delivery_attempts_total{subscription="ns/b",result="success"} 1');
    expect(text).toContain('hookstream_delivery_attempt_duration_seconds_count{result="success"} 4');
    expect(text).toContain('hookstream_delivery_attempt_duration_seconds_count{result="retry"} 1');
    expect(text).toContain('hookstream_messages_pulled_total{kind="event"} 2');
    expect(text).toContain('hookstream_messages_pulled_total{kind="retry"} 1');
  });
});
