import { describe, expect, it } from "@jest/globals";
import { webhookSubscriptionSchema, type JSONSchemaProps } from "../../../src/api/schema.js";
import type {
  BasicAuth,
  BearerAuth,
  CABundle,
  CircuitBreaker,
  ClientCertificate,
  Condition,
  ConditionStatus,
  Delivery,
  DeliveryCounts,
  Endpoint,
  EndpointAuth,
  EndpointTLS,
  LastAttempt,
  ObjectMeta,
  RateLimit,
  RetryPolicy,
  SecretKeyRef,
  SecretRef,
  Signing,
  WebhookSubscription,
  WebhookSubscriptionSpec,
  WebhookSubscriptionStatus,
} from "../../../src/api/types.js";

/** Every optional field made required, all the way down: leaving a field out is a compile error. */
type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;

/** metadata is the API server's, not ours: the schema keeps it opaque. */
type Maximal = DeepRequired<Omit<WebhookSubscription, "metadata">> & { metadata: ObjectMeta };

/** One of everything the TS types allow. (Not a valid object: auth has both kinds, to cover both.) */
const maximal: Maximal = {
  apiVersion: "hookstream.io/v1alpha1",
  kind: "WebhookSubscription",
  metadata: { name: "orders", namespace: "shop" },
  spec: {
    subjects: ["shop.orders.created", "shop.orders.*.paid", "shop.refunds.>"],
    filter: "data.total > 100",
    endpoint: {
      url: "https://fulfillment.example.com/hooks/orders",
      timeout: "15s",
      headers: { "X-Team": "fulfillment" },
      auth: {
        bearer: { secretRef: { name: "token", key: "token" } },
        basic: { secretRef: { name: "basic" } },
      },
      tls: {
        caBundle: { secretRef: { name: "ca", key: "ca.crt" } },
        clientCertificate: { secretRef: { name: "client-tls" } },
      },
    },
    signing: {
      secretRef: { name: "signing", key: "secret" },
      previousSecretRef: { name: "signing-old", key: "secret" },
      previousValidUntil: "2030-01-01T00:00:00Z",
    },
    delivery: {
      retry: { schedule: ["5s", "5m"], jitter: 0.2 },
      maxInFlight: 16,
      rateLimit: { perSecond: 50, burst: 50 },
      circuitBreaker: { failureThreshold: 10, probeInterval: "30s" },
      deadLetterSubject: "shop.webhooks.dead",
    },
    paused: false,
  },
  status: {
    observedGeneration: 3,
    conditions: [
      {
        type: "Ready",
        status: "True",
        observedGeneration: 3,
        lastTransitionTime: "2030-01-01T00:00:00Z",
        reason: "Delivering",
        message: "delivering",
      },
    ],
    endpointState: "Active",
    deliveries: { succeeded: 1204, failed: 3, retrying: 1, deadLettered: 0 },
    lastAttempt: {
      time: "2030-01-01T00:00:00Z",
      eventId: "evt-1",
      statusCode: 204,
      durationMs: 3,
      error: "none",
    },
    lastSuccessTime: "2030-01-01T00:00:00Z",
    routes: 3,
  },
};

/** Walks a value and its schema together; returns every disagreement as "path: problem". */
function disagreements(schema: JSONSchemaProps, value: unknown, path: string): string[] {
  const out: string[] = [];
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return [`${path}: not an object`];
      const obj = value as Record<string, unknown>;
      if (schema.properties) {
        for (const key of Object.keys(obj)) {
          if (!(key in schema.properties)) out.push(`${path}.${key}: in the TS types, not in the schema`);
        }
        for (const [key, sub] of Object.entries(schema.properties)) {
          if (!(key in obj)) out.push(`${path}.${key}: in the schema, not in the TS types`);
          else out.push(...disagreements(sub, obj[key], `${path}.${key}`));
        }
      } else if (schema.additionalProperties) {
        if (Object.keys(obj).length === 0)
          out.push(`${path}: give the map an entry so its values are checked`);
        for (const [key, v] of Object.entries(obj))
          out.push(...disagreements(schema.additionalProperties, v, `${path}.${key}`));
      }
      // An object schema with neither (metadata) is opaque.
      return out;
    }
    case "array":
      if (!Array.isArray(value)) return [`${path}: not an array`];
      if (value.length === 0) return [`${path}: give the array an item so it is checked`];
      return value.flatMap((v, i) => disagreements(schema.items ?? {}, v, `${path}[${i}]`));
    case "string":
      if (typeof value !== "string") return [`${path}: not a string`];
      if (schema.enum && !schema.enum.includes(value)) return [`${path}: ${value} not in the enum`];
      if (schema.format === "date-time" && Number.isNaN(Date.parse(value)))
        return [`${path}: not a date-time`];
      return [];
    case "integer":
      return Number.isInteger(value) ? [] : [`${path}: not an integer`];
    case "number":
      return typeof value === "number" ? [] : [`${path}: not a number`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${path}: not a boolean`];
    default:
      return [`${path}: schema without a type`];
  }
}

function schemaAt(path: string[]): JSONSchemaProps {
  let s: JSONSchemaProps | undefined = webhookSubscriptionSchema;
  for (const p of path) s = p === "[]" ? s?.items : s?.properties?.[p];
  if (!s) throw new Error(`no schema at ${path.join(".")}`);
  return s;
}

describe("TS types and CRD schema", () => {
  it("agree field by field (every TS field is in the schema and every schema field in the types)", () => {
    expect(disagreements(webhookSubscriptionSchema, maximal, "")).toEqual([]);
  });

  it("the walk notices a field missing on either side", () => {
    const extra = structuredClone(maximal) as unknown as { spec: Record<string, unknown> };
    extra.spec.surprise = 1;
    expect(disagreements(webhookSubscriptionSchema, extra, "")).toEqual([
      ".spec.surprise: in the TS types, not in the schema",
    ]);
    const missing = structuredClone(maximal) as unknown as { spec: { delivery: Record<string, unknown> } };
    delete missing.spec.delivery.maxInFlight;
    expect(disagreements(webhookSubscriptionSchema, missing, "")).toEqual([
      ".spec.delivery.maxInFlight: in the schema, not in the TS types",
    ]);
    const wrongType = structuredClone(maximal) as unknown as { spec: Record<string, unknown> };
    wrongType.spec.paused = "no";
    expect(disagreements(webhookSubscriptionSchema, wrongType, "")).toEqual([".spec.paused: not a boolean"]);
  });

  it("agree on the condition statuses", () => {
    const statuses = { True: true, False: true, Unknown: true } satisfies Record<ConditionStatus, true>;
    expect(schemaAt(["status", "conditions", "[]", "status"]).enum).toEqual(Object.keys(statuses));
  });

  it("agree on which fields are required, for every object in the schema", () => {
    const table: [string, string[]][] = [
      // apiVersion, kind and metadata are always there; the API machinery, not the schema, sees to it.
      ["", required<Omit<WebhookSubscription, "apiVersion" | "kind" | "metadata">>()(["spec"])],
      ["spec", required<WebhookSubscriptionSpec>()(["subjects", "endpoint"])],
      ["spec.endpoint", required<Endpoint>()(["url"])],
      ["spec.endpoint.auth", required<EndpointAuth>()([])],
      ["spec.endpoint.auth.bearer", required<BearerAuth>()(["secretRef"])],
      ["spec.endpoint.auth.bearer.secretRef", required<SecretKeyRef>()(["name"])],
      ["spec.endpoint.auth.basic", required<BasicAuth>()(["secretRef"])],
      ["spec.endpoint.auth.basic.secretRef", required<SecretRef>()(["name"])],
      ["spec.endpoint.tls", required<EndpointTLS>()([])],
      ["spec.endpoint.tls.caBundle", required<CABundle>()(["secretRef"])],
      ["spec.endpoint.tls.caBundle.secretRef", required<SecretKeyRef>()(["name"])],
      ["spec.endpoint.tls.clientCertificate", required<ClientCertificate>()(["secretRef"])],
      ["spec.endpoint.tls.clientCertificate.secretRef", required<SecretRef>()(["name"])],
      ["spec.signing", required<Signing>()(["secretRef"])],
      ["spec.signing.secretRef", required<SecretKeyRef>()(["name"])],
      ["spec.signing.previousSecretRef", required<SecretKeyRef>()(["name"])],
      ["spec.delivery", required<Delivery>()([])],
      ["spec.delivery.retry", required<RetryPolicy>()([])],
      ["spec.delivery.rateLimit", required<RateLimit>()(["perSecond"])],
      ["spec.delivery.circuitBreaker", required<CircuitBreaker>()([])],
      ["status", required<WebhookSubscriptionStatus>()([])],
      [
        "status.conditions[]",
        required<Condition>()(["type", "status", "lastTransitionTime", "reason", "message"]),
      ],
      ["status.deliveries", required<DeliveryCounts>()([])],
      ["status.lastAttempt", required<LastAttempt>()([])],
    ];
    const objects = objectPaths(webhookSubscriptionSchema, "");
    expect(table.map(([path]) => path).sort()).toEqual([...objects.keys()].sort());
    for (const [path, keys] of table) {
      expect({ path, required: [...(objects.get(path)?.required ?? [])].sort() }).toEqual({
        path,
        required: [...keys].sort(),
      });
    }
  });
});

/** The keys of T that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/**
 * The required keys of T, spelled out: the compiler rejects a key that is optional in T and a list
 * that leaves out one that is required.
 */
function required<T>() {
  return <const K extends readonly RequiredKeys<T>[]>(
    keys: K & ([Exclude<RequiredKeys<T>, K[number]>] extends [never] ? unknown : "a required key is missing"),
  ): string[] => keys.map(String);
}

/** Every object schema with properties, by path ("[]" marks array items). */
function objectPaths(schema: JSONSchemaProps, path: string, out = new Map<string, JSONSchemaProps>()) {
  if (schema.type === "object" && schema.properties) {
    out.set(path, schema);
    for (const [key, sub] of Object.entries(schema.properties))
      objectPaths(sub, path === "" ? key : `${path}.${key}`, out);
  }
  if (schema.items) objectPaths(schema.items, `${path}[]`, out);
  return out;
}
