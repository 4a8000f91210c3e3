import { describe, expect, it } from "@jest/globals";
import {
  DEFAULT_JITTER,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_RETRY_SCHEDULE,
  DEFAULT_TIMEOUT,
  LIMITS,
  withDefaults,
  type DefaultedSpec,
} from "../../../src/api/defaults.js";
import { parseDuration } from "../../../src/api/duration.js";
import { webhookSubscriptionSchema, type JSONSchemaProps } from "../../../src/api/schema.js";
import type { WebhookSubscriptionSpec } from "../../../src/api/types.js";

const minimal: WebhookSubscriptionSpec = {
  subjects: ["shop.orders.created"],
  endpoint: { url: "https://example.com/hook" },
};

/**
 * Structural-schema defaulting as the API server does it: a default applies where the parent object
 * exists and the field does not, and defaulting goes on inside the defaulted value.
 */
function applySchemaDefaults(schema: JSONSchemaProps, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => applySchemaDefaults(schema.items ?? {}, v));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (out[key] === undefined && sub.default !== undefined) out[key] = structuredClone(sub.default);
    if (out[key] !== undefined) out[key] = applySchemaDefaults(sub, out[key]);
  }
  return out;
}

const specSchema = webhookSubscriptionSchema.properties!.spec!;

describe("withDefaults", () => {
  it("fills in every default of a minimal spec", () => {
    const expected: DefaultedSpec = {
      subjects: ["shop.orders.created"],
      endpoint: { url: "https://example.com/hook", timeout: "15s", headers: {} },
      delivery: {
        retry: { schedule: ["5s", "5m", "30m", "2h", "5h", "10h", "10h"], jitter: 0.2 },
        maxInFlight: 16,
        circuitBreaker: { failureThreshold: 10, probeInterval: "30s" },
      },
      paused: false,
    };
    expect(withDefaults(minimal)).toEqual(expected);
  });

  it("agrees with the schema's defaults on a minimal spec and on one with every parent present", () => {
    expect(withDefaults(minimal)).toMatchObject(
      applySchemaDefaults(specSchema, minimal) as Record<string, unknown>,
    );
    const parents: WebhookSubscriptionSpec = {
      ...minimal,
      endpoint: {
        url: "https://example.com/hook",
        auth: { bearer: { secretRef: { name: "tok" } } },
        tls: { caBundle: { secretRef: { name: "ca" } } },
      },
      signing: {
        secretRef: { name: "sig" },
        previousSecretRef: { name: "old" },
        previousValidUntil: "2030-01-01T00:00:00Z",
      },
      delivery: { retry: {}, circuitBreaker: {}, rateLimit: { perSecond: 2.5 } },
    };
    const bySchema = applySchemaDefaults(specSchema, parents) as Record<string, unknown>;
    expect(withDefaults(parents)).toMatchObject(bySchema);
    expect(bySchema).toMatchObject({
      endpoint: {
        auth: { bearer: { secretRef: { key: "token" } } },
        tls: { caBundle: { secretRef: { key: "ca.crt" } } },
      },
      signing: { secretRef: { key: "secret" }, previousSecretRef: { key: "secret" } },
    });
  });

  it("keeps every value that is set", () => {
    const full: WebhookSubscriptionSpec = {
      subjects: ["a.>"],
      filter: "true",
      endpoint: {
        url: "http://svc.ns.svc/hook",
        timeout: "2s",
        headers: { "X-Team": "a" },
        auth: { basic: { secretRef: { name: "creds" } } },
        tls: {
          clientCertificate: { secretRef: { name: "cert" } },
          caBundle: { secretRef: { name: "ca", key: "k" } },
        },
      },
      signing: { secretRef: { name: "s", key: "k2" } },
      delivery: {
        retry: { schedule: [], jitter: 0 },
        maxInFlight: 1,
        rateLimit: { perSecond: 10, burst: 3 },
        circuitBreaker: { failureThreshold: 2, probeInterval: "1m" },
        deadLetterSubject: "dead",
      },
      paused: true,
    };
    expect(withDefaults(full)).toEqual(full);
  });

  it("defaults the rate-limit burst to perSecond rounded up", () => {
    const burst = (perSecond: number) =>
      withDefaults({ ...minimal, delivery: { rateLimit: { perSecond } } }).delivery.rateLimit?.burst;
    expect(burst(0.5)).toBe(1);
    expect(burst(50)).toBe(50);
    expect(burst(2.1)).toBe(3);
  });

  it("is pure: the input is never changed and results share no arrays or objects with it", () => {
    const spec: WebhookSubscriptionSpec = structuredClone({
      ...minimal,
      endpoint: { ...minimal.endpoint, headers: { a: "b" } },
      delivery: { retry: { schedule: ["1s"] } },
    });
    const before = structuredClone(spec);
    const out = withDefaults(spec);
    expect(spec).toEqual(before);
    out.subjects.push("x");
    out.endpoint.headers.c = "d";
    out.delivery.retry.schedule.push("2s");
    expect(spec).toEqual(before);
    withDefaults(minimal).delivery.retry.schedule.push("9h");
    expect(withDefaults(minimal).delivery.retry.schedule).toEqual([...DEFAULT_RETRY_SCHEDULE]);
  });

  it("is idempotent", () => {
    const once = withDefaults({ ...minimal, delivery: { rateLimit: { perSecond: 7.5 } } });
    expect(withDefaults(once)).toEqual(once);
  });
});

describe("default values", () => {
  const ms = (d: string) => parseDuration(d) ?? Number.NaN;

  it("lie within their own bounds", () => {
    expect(ms(DEFAULT_TIMEOUT)).toBeGreaterThanOrEqual(ms(LIMITS.timeout.min));
    expect(ms(DEFAULT_TIMEOUT)).toBeLessThanOrEqual(ms(LIMITS.timeout.max));
    expect(DEFAULT_RETRY_SCHEDULE.length).toBeLessThanOrEqual(LIMITS.retrySchedule.max);
    for (const d of DEFAULT_RETRY_SCHEDULE) {
      expect(ms(d)).toBeGreaterThanOrEqual(ms(LIMITS.retryDelay.min));
      expect(ms(d)).toBeLessThanOrEqual(ms(LIMITS.retryDelay.max));
    }
    expect(DEFAULT_JITTER).toBeGreaterThanOrEqual(LIMITS.jitter.min);
    expect(DEFAULT_JITTER).toBeLessThanOrEqual(LIMITS.jitter.max);
    expect(DEFAULT_MAX_IN_FLIGHT).toBeGreaterThanOrEqual(LIMITS.maxInFlight.min);
    expect(DEFAULT_MAX_IN_FLIGHT).toBeLessThanOrEqual(LIMITS.maxInFlight.max);
  });

  it("cannot be changed by accident", () => {
    expect(() => (DEFAULT_RETRY_SCHEDULE as string[]).push("1s")).toThrow(TypeError);
    expect(Object.isFrozen(LIMITS)).toBe(true);
  });
});
