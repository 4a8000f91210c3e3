// The CRD in crds/ (applied by the global setup) against the real kube-apiserver: what it rejects,
// with which field named, what it accepts, and which defaults the server fills in.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { Agent, request, type Dispatcher } from "undici";
import { withDefaults } from "../../../src/api/defaults.js";
import type { WebhookSubscription, WebhookSubscriptionSpec } from "../../../src/api/types.js";
import { bedKubeConfig, uniqueName } from "../env.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Status {
  kind: "Status";
  code: number;
  reason: string;
  message: string;
  details?: { causes?: { reason?: string; message?: string; field?: string }[] };
}

interface Reply {
  status: number;
  body: unknown;
  warnings: string[];
}

/** Raw HTTP to the bed's API server: client-node's typed models would drop the fields under test. */
function rawClient() {
  const kc = bedKubeConfig();
  const cluster = kc.getCurrentCluster();
  const token = kc.getCurrentUser()?.token;
  if (!cluster?.caFile || !token) throw new Error("the bed kubeconfig has no CA file or token");
  const dispatcher = new Agent({ connect: { ca: readFileSync(cluster.caFile) } });
  const call = async (method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<Reply> => {
    const res = await request(`${cluster.server}${path}`, {
      method,
      dispatcher,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const warning = res.headers.warning;
    return {
      status: res.statusCode,
      body: await res.body.json(),
      warnings: warning === undefined ? [] : Array.isArray(warning) ? warning : [warning],
    };
  };
  return { call, close: () => dispatcher.close() };
}

const BASE = "/apis/hookstream.io/v1alpha1";
const REMOVE = Symbol("remove");

/** A valid subscription that each invalid case breaks in exactly one place. */
function baseManifest(name: string): JsonObject {
  return {
    apiVersion: "hookstream.io/v1alpha1",
    kind: "WebhookSubscription",
    metadata: { name },
    spec: {
      subjects: ["shop.orders.created"],
      endpoint: { url: "https://fulfillment.example.com/hooks/orders" },
      signing: { secretRef: { name: "orders-webhook" } },
    },
  };
}

/** Sets (or removes) dotted paths in a copy of `obj`, creating objects on the way. */
function edit(obj: JsonObject, edits: Record<string, Json | typeof REMOVE>): JsonObject {
  const out = structuredClone(obj);
  for (const [path, value] of Object.entries(edits)) {
    const keys = path.split(".");
    const last = keys.pop()!;
    let node = out;
    for (const k of keys) {
      const next = node[k];
      if (next === undefined || next === null || typeof next !== "object" || Array.isArray(next))
        node[k] = {};
      node = node[k] as JsonObject;
    }
    if (value === REMOVE) delete node[last];
    else node[last] = value;
  }
  return out;
}

/** A field path as the server writes it in a message: followed by ":", or by a sub-path. */
const mentions = (field: string): RegExp =>
  new RegExp(`(^|[\\s\\[])${field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(:|\\.|\\[)`);

const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
const headers = (n: number): JsonObject =>
  Object.fromEntries(range(n, (i) => `X-H${i}`).map((h) => [h, "v"]));

interface InvalidCase {
  name: string;
  edits: Record<string, Json | typeof REMOVE>;
  /** The field path the rejection must name (and the only one it may name). */
  field: string;
  /** 422 Invalid by default; 400 BadRequest for strict field validation's unknown fields. */
  code?: 400 | 422;
  /** A part of the message that says what is wrong. */
  says?: string;
}

const invalid: InvalidCase[] = [
  // Required fields.
  { name: "no spec", edits: { spec: REMOVE }, field: "spec", says: "Required value" },
  { name: "no subjects", edits: { "spec.subjects": REMOVE }, field: "spec.subjects", says: "Required value" },
  { name: "no endpoint", edits: { "spec.endpoint": REMOVE }, field: "spec.endpoint", says: "Required value" },
  {
    name: "no url",
    edits: { "spec.endpoint.url": REMOVE },
    field: "spec.endpoint.url",
    says: "Required value",
  },
  { name: "signing without secretRef", edits: { "spec.signing": {} }, field: "spec.signing.secretRef" },
  {
    name: "bearer without secretRef",
    edits: { "spec.endpoint.auth": { bearer: {} } },
    field: "spec.endpoint.auth.bearer.secretRef",
  },
  // Wrong types.
  { name: "subjects a string", edits: { "spec.subjects": "shop.orders.created" }, field: "spec.subjects" },
  {
    name: "maxInFlight a string",
    edits: { "spec.delivery.maxInFlight": "16" },
    field: "spec.delivery.maxInFlight",
  },
  {
    name: "maxInFlight a fraction",
    edits: { "spec.delivery.maxInFlight": 1.5 },
    field: "spec.delivery.maxInFlight",
  },
  { name: "paused a string", edits: { "spec.paused": "false" }, field: "spec.paused" },
  {
    name: "header value a number",
    edits: { "spec.endpoint.headers": { "X-Team": 1 } },
    field: "spec.endpoint.headers",
  },
  // Subjects.
  {
    name: "no subjects at all",
    edits: { "spec.subjects": [] },
    field: "spec.subjects",
    says: "at least 1 items",
  },
  { name: "33 subjects", edits: { "spec.subjects": range(33, (i) => `s.${i}`) }, field: "spec.subjects" },
  {
    name: "subject a..b",
    edits: { "spec.subjects": ["a..b"] },
    field: "spec.subjects[0]",
    says: "NATS subject pattern",
  },
  {
    name: "subject >.x",
    edits: { "spec.subjects": ["ok", ">.x"] },
    field: "spec.subjects[1]",
    says: "NATS subject",
  },
  {
    name: "subject a b",
    edits: { "spec.subjects": ["a b"] },
    field: "spec.subjects[0]",
    says: "NATS subject",
  },
  { name: "subject a<NBSP>b", edits: { "spec.subjects": ["a\u00a0b"] }, field: "spec.subjects[0]" },
  { name: "subject a<TAB>b", edits: { "spec.subjects": ["a\tb"] }, field: "spec.subjects[0]" },
  {
    name: "subject a.>.b",
    edits: { "spec.subjects": ["a.>.b"] },
    field: "spec.subjects[0]",
    says: "NATS subject",
  },
  { name: "subject *a", edits: { "spec.subjects": ["*a"] }, field: "spec.subjects[0]", says: "NATS subject" },
  { name: "subject a>", edits: { "spec.subjects": ["a>"] }, field: "spec.subjects[0]" },
  { name: "subject .a", edits: { "spec.subjects": [".a"] }, field: "spec.subjects[0]", says: "NATS subject" },
  { name: "subject a.", edits: { "spec.subjects": ["a."] }, field: "spec.subjects[0]", says: "NATS subject" },
  { name: "empty subject", edits: { "spec.subjects": [""] }, field: "spec.subjects[0]" },
  {
    name: "subject of 256 characters",
    edits: { "spec.subjects": ["a".repeat(256)] },
    field: "spec.subjects[0]",
  },
  {
    name: "duplicated subject",
    edits: { "spec.subjects": ["a.b", "c", "a.b"] },
    field: "spec.subjects[2]",
    says: "Duplicate value",
  },
  // Endpoint URL.
  {
    name: "url without a scheme",
    edits: { "spec.endpoint.url": "example.com/hooks" },
    field: "spec.endpoint.url",
  },
  {
    name: "ftp url",
    edits: { "spec.endpoint.url": "ftp://example.com/hooks" },
    field: "spec.endpoint.url",
    says: "http://",
  },
  {
    name: "url without a host",
    edits: { "spec.endpoint.url": "https://" },
    field: "spec.endpoint.url",
    says: "with a host",
  },
  {
    name: "url with a space",
    edits: { "spec.endpoint.url": "https://example.com/my hooks" },
    field: "spec.endpoint.url",
    says: "whitespace",
  },
  {
    name: "url with user information",
    edits: { "spec.endpoint.url": "https://user:secret@example.com/hooks" },
    field: "spec.endpoint.url",
    says: "user information",
  },
  {
    name: "url with a fragment",
    edits: { "spec.endpoint.url": "https://example.com/hooks#orders" },
    field: "spec.endpoint.url",
    says: "fragment",
  },
  {
    name: "url with port 99999",
    edits: { "spec.endpoint.url": "https://example.com:99999/hooks" },
    field: "spec.endpoint.url",
    says: "port",
  },
  {
    name: "url too long",
    edits: { "spec.endpoint.url": `https://example.com/${"a".repeat(2048)}` },
    field: "spec.endpoint.url",
  },
  // Durations and numbers out of range.
  {
    name: "timeout 10m",
    edits: { "spec.endpoint.timeout": "10m" },
    field: "spec.endpoint.timeout",
    says: "between 1s and 5m",
  },
  {
    name: "timeout 500ms",
    edits: { "spec.endpoint.timeout": "500ms" },
    field: "spec.endpoint.timeout",
    says: "between 1s and 5m",
  },
  {
    name: "timeout without a unit",
    edits: { "spec.endpoint.timeout": "15" },
    field: "spec.endpoint.timeout",
  },
  { name: "maxInFlight 0", edits: { "spec.delivery.maxInFlight": 0 }, field: "spec.delivery.maxInFlight" },
  {
    name: "maxInFlight 5000",
    edits: { "spec.delivery.maxInFlight": 5000 },
    field: "spec.delivery.maxInFlight",
  },
  { name: "jitter 1.5", edits: { "spec.delivery.retry.jitter": 1.5 }, field: "spec.delivery.retry.jitter" },
  { name: "jitter -0.1", edits: { "spec.delivery.retry.jitter": -0.1 }, field: "spec.delivery.retry.jitter" },
  {
    name: "retry after 0s",
    edits: { "spec.delivery.retry.schedule": ["5s", "0s"] },
    field: "spec.delivery.retry.schedule[1]",
    says: "between 1s and 24h",
  },
  {
    name: "retry after 48h",
    edits: { "spec.delivery.retry.schedule": ["5s", "48h"] },
    field: "spec.delivery.retry.schedule[1]",
    says: "between 1s and 24h",
  },
  {
    name: "retry after 5x",
    edits: { "spec.delivery.retry.schedule": ["5s", "5x"] },
    field: "spec.delivery.retry.schedule[1]",
  },
  {
    name: "21 retries",
    edits: { "spec.delivery.retry.schedule": range(21, () => "1m") },
    field: "spec.delivery.retry.schedule",
  },
  {
    name: "perSecond 0",
    edits: { "spec.delivery.rateLimit": { perSecond: 0 } },
    field: "spec.delivery.rateLimit.perSecond",
  },
  {
    name: "perSecond 20000",
    edits: { "spec.delivery.rateLimit": { perSecond: 20_000 } },
    field: "spec.delivery.rateLimit.perSecond",
  },
  {
    name: "rateLimit without perSecond",
    edits: { "spec.delivery.rateLimit": { burst: 5 } },
    field: "spec.delivery.rateLimit.perSecond",
    says: "Required value",
  },
  {
    name: "burst 0",
    edits: { "spec.delivery.rateLimit": { perSecond: 5, burst: 0 } },
    field: "spec.delivery.rateLimit.burst",
  },
  {
    name: "failureThreshold 0",
    edits: { "spec.delivery.circuitBreaker.failureThreshold": 0 },
    field: "spec.delivery.circuitBreaker.failureThreshold",
  },
  {
    name: "probeInterval 2h",
    edits: { "spec.delivery.circuitBreaker.probeInterval": "2h" },
    field: "spec.delivery.circuitBreaker.probeInterval",
    says: "between 1s and 1h",
  },
  { name: "filter too long", edits: { "spec.filter": "x".repeat(4097) }, field: "spec.filter" },
  // Unknown fields (strict field validation: kubectl's default).
  {
    name: "unknown field urll",
    edits: { "spec.endpoint.urll": "x" },
    field: "spec.endpoint.urll",
    code: 400,
    says: "unknown field",
  },
  {
    name: "unknown field spec.foo",
    edits: { "spec.foo": 1 },
    field: "spec.foo",
    code: 400,
    says: "unknown field",
  },
  {
    name: "secretRef with a namespace",
    edits: { "spec.signing.secretRef.namespace": "other" },
    field: "spec.signing.secretRef.namespace",
    code: 400,
    says: "unknown field",
  },
  {
    name: "bearer secretRef with a namespace",
    edits: { "spec.endpoint.auth": { bearer: { secretRef: { name: "tok", namespace: "other" } } } },
    field: "spec.endpoint.auth.bearer.secretRef.namespace",
    code: 400,
  },
  // Secret references.
  {
    name: "Secret name not DNS-1123",
    edits: { "spec.signing.secretRef.name": "Orders_Webhook" },
    field: "spec.signing.secretRef.name",
  },
  {
    name: "Secret key with a slash",
    edits: { "spec.signing.secretRef.key": "a/b" },
    field: "spec.signing.secretRef.key",
  },
  // Auth, TLS, signing rotation.
  {
    name: "two auth kinds",
    edits: {
      "spec.endpoint.auth": { bearer: { secretRef: { name: "a" } }, basic: { secretRef: { name: "b" } } },
    },
    field: "spec.endpoint.auth",
    says: "exactly one of bearer or basic",
  },
  {
    name: "no auth kind",
    edits: { "spec.endpoint.auth": {} },
    field: "spec.endpoint.auth",
    says: "exactly one",
  },
  {
    name: "tls on an http:// url",
    edits: {
      "spec.endpoint.url": "http://svc.shop.svc/hooks",
      "spec.endpoint.tls": { caBundle: { secretRef: { name: "ca" } } },
    },
    field: "spec.endpoint.tls",
    says: "https://",
  },
  {
    name: "previousSecretRef without previousValidUntil",
    edits: { "spec.signing.previousSecretRef": { name: "old" } },
    field: "spec.signing.previousValidUntil",
    says: "Required value",
  },
  {
    name: "previousValidUntil without previousSecretRef",
    edits: { "spec.signing.previousValidUntil": "2030-01-01T00:00:00Z" },
    field: "spec.signing.previousSecretRef",
    says: "Required value",
  },
  {
    name: "previousValidUntil not a date-time",
    edits: {
      "spec.signing.previousSecretRef": { name: "old" },
      "spec.signing.previousValidUntil": "tomorrow",
    },
    field: "spec.signing.previousValidUntil",
  },
  // Headers.
  {
    name: "reserved header webhook-signature",
    edits: { "spec.endpoint.headers": { "webhook-signature": "v1,forged" } },
    field: "spec.endpoint.headers",
    says: "reserved",
  },
  {
    name: "reserved header Authorization (any case)",
    edits: { "spec.endpoint.headers": { Authorization: "Bearer x" } },
    field: "spec.endpoint.headers",
    says: "spec.endpoint.auth",
  },
  {
    name: "header name with a space",
    edits: { "spec.endpoint.headers": { "X Team": "a" } },
    field: "spec.endpoint.headers",
  },
  {
    name: "header value with a line break",
    edits: { "spec.endpoint.headers": { "X-Team": "a\r\nX-Injected: 1" } },
    field: "spec.endpoint.headers",
  },
  {
    name: "header twice in different case",
    edits: { "spec.endpoint.headers": { "X-Team": "a", "x-team": "b" } },
    field: "spec.endpoint.headers",
    says: "case-insensitive",
  },
  { name: "33 headers", edits: { "spec.endpoint.headers": headers(33) }, field: "spec.endpoint.headers" },
  // Dead letters.
  {
    name: "deadLetterSubject with *",
    edits: { "spec.delivery.deadLetterSubject": "shop.dead.*" },
    field: "spec.delivery.deadLetterSubject",
    says: "without wildcards",
  },
  {
    name: "deadLetterSubject with >",
    edits: { "spec.delivery.deadLetterSubject": "shop.>" },
    field: "spec.delivery.deadLetterSubject",
    says: "without wildcards",
  },
];

/** Valid subscriptions, as typed specs: the TS types and the server must agree they are fine. */
const valid: { name: string; spec: WebhookSubscriptionSpec }[] = [
  {
    name: "minimal",
    spec: { subjects: ["shop.orders.created"], endpoint: { url: "https://example.com/hook" } },
  },
  {
    name: "every field",
    spec: {
      subjects: ["shop.orders.created", "shop.orders.*.paid", "shop.refunds.>"],
      filter: 'data.total > 100 && headers["x-region"] == "eu"',
      endpoint: {
        url: "https://fulfillment.example.com:8443/hooks/orders?source=hookstream",
        timeout: "1m30s",
        headers: { "X-Team": "fulfillment", "x-custom_id.v2": "a\tb" },
        auth: { bearer: { secretRef: { name: "fulfillment-token", key: "api-token" } } },
        tls: {
          caBundle: { secretRef: { name: "fulfillment-ca" } },
          clientCertificate: { secretRef: { name: "hookstream-client" } },
        },
      },
      signing: {
        secretRef: { name: "orders-webhook-v2", key: "secret" },
        previousSecretRef: { name: "orders-webhook" },
        previousValidUntil: "2030-06-01T00:00:00Z",
      },
      delivery: {
        retry: { schedule: ["1s", "1.5s", "24h"], jitter: 0 },
        maxInFlight: 1024,
        rateLimit: { perSecond: 0.5, burst: 10_000 },
        circuitBreaker: { failureThreshold: 1000, probeInterval: "1h" },
        deadLetterSubject: "shop.webhooks.dead",
      },
      paused: true,
    },
  },
  {
    name: "basic auth over http, catch-all subject, no retries",
    spec: {
      subjects: [">"],
      endpoint: {
        url: "http://receiver.shop.svc.cluster.local/hooks",
        timeout: "1s",
        auth: { basic: { secretRef: { name: "receiver-basic" } } },
      },
      delivery: { retry: { schedule: [] }, maxInFlight: 1 },
    },
  },
  {
    name: "limits: 32 subjects, 32 headers, 20 retries, 255-character subject",
    spec: {
      subjects: [...range(31, (i) => `shop.s${i}.*`), `${"a".repeat(127)}.${"b".repeat(127)}`],
      endpoint: {
        url: `https://[::1]:65535/${"p".repeat(1990)}`,
        timeout: "5m",
        headers: Object.fromEntries(range(32, (i) => `X-H${i}`).map((h) => [h, "v"])),
      },
      delivery: { retry: { schedule: range(20, () => "24h"), jitter: 1 }, rateLimit: { perSecond: 10_000 } },
    },
  },
  {
    name: "unicode subjects, wildcards everywhere",
    spec: {
      subjects: ["bestellungen.größe.*", "*.*.>", "*", "a.*.>"],
      endpoint: { url: "HTTPS://Example.COM/Hook" },
      delivery: { circuitBreaker: { probeInterval: "1s" }, deadLetterSubject: "dead-letters_é" },
    },
  },
  {
    name: "rotation with default keys and an empty delivery block",
    spec: {
      subjects: ["a"],
      endpoint: { url: "https://10.0.0.1/h", headers: {}, tls: { caBundle: { secretRef: { name: "ca" } } } },
      signing: {
        secretRef: { name: "new" },
        previousSecretRef: { name: "old", key: "old-secret" },
        previousValidUntil: "2030-01-01T00:00:00.5+02:00",
      },
      delivery: {},
      paused: false,
    },
  },
];

describe("WebhookSubscription schema on the real API server", () => {
  const api = rawClient();
  const ns = uniqueName("api-validation");
  const collection = `${BASE}/namespaces/${ns}/webhooksubscriptions`;

  beforeAll(async () => {
    const res = await api.call("POST", "/api/v1/namespaces", { metadata: { name: ns } });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await api.call("DELETE", `/api/v1/namespaces/${ns}`);
    await api.close();
  });

  it("has a table of at least 30 invalid and 5 valid manifests", () => {
    expect(invalid.length).toBeGreaterThanOrEqual(30);
    expect(new Set(invalid.map((c) => c.name)).size).toBe(invalid.length);
    expect(valid.length).toBeGreaterThanOrEqual(5);
  });

  it("accepts the base manifest the invalid cases start from", async () => {
    const res = await api.call(
      "POST",
      `${collection}?fieldValidation=Strict&dryRun=All`,
      baseManifest("base"),
    );
    expect(res.body).toMatchObject({ kind: "WebhookSubscription" });
    expect(res.status).toBe(201);
    expect(res.warnings).toEqual([]);
  });

  it.each(invalid.map((c, i) => [c.name, i, c] as const))("rejects %s", async (_name, i, c) => {
    const res = await api.call(
      "POST",
      `${collection}?fieldValidation=Strict`,
      edit(baseManifest(`invalid-${i}`), c.edits),
    );
    const code = c.code ?? 422;
    const status = res.body as Status;
    expect({ status: res.status, kind: status.kind }).toEqual({ status: code, kind: "Status" });
    expect(status.reason).toBe(code === 422 ? "Invalid" : "BadRequest");
    if (code === 422) expect(status.message).toMatch(mentions(c.field));
    else expect(status.message).toContain(`unknown field "${c.field}"`);
    if (c.says !== undefined) expect(status.message).toContain(c.says);
    if (code === 422) {
      // Every field the server complains about is the one under test (or inside it).
      const fields = (status.details?.causes ?? []).map((x) => x.field ?? "").filter((f) => f !== "<nil>");
      expect(fields.length).toBeGreaterThan(0);
      const elsewhere = fields.filter(
        (f) => f !== c.field && !f.startsWith(`${c.field}.`) && !f.startsWith(`${c.field}[`),
      );
      expect({ elsewhere, message: status.message }).toEqual({ elsewhere: [], message: status.message });
    }
    // Nothing was stored.
    const get = await api.call("GET", `${collection}/invalid-${i}`);
    expect(get.status).toBe(404);
  });

  it.each(valid.map((c, i) => [c.name, i, c.spec] as const))(
    "accepts %s and stores it with the defaults withDefaults applies",
    async (_name, i, spec) => {
      const name = `valid-${i}`;
      const manifest: WebhookSubscription = {
        apiVersion: "hookstream.io/v1alpha1",
        kind: "WebhookSubscription",
        metadata: { name },
        spec,
      };
      const created = await api.call("POST", `${collection}?fieldValidation=Strict`, manifest);
      expect({ status: created.status, body: created.body }).toMatchObject({ status: 201 });
      expect(created.warnings).toEqual([]);
      const got = await api.call("GET", `${collection}/${name}`);
      expect(got.status).toBe(200);
      const stored = (got.body as WebhookSubscription).spec;
      // What the server stored is what was sent plus defaults, and the operator's defaults agree with
      // every default the server applied.
      expect(withDefaults(spec)).toMatchObject(stored);
      expect(withDefaults(stored)).toEqual(withDefaults(spec));
      expect(stored).toMatchObject(spec);
    },
  );

  it("fills in every default of a minimal manifest", async () => {
    const res = await api.call(
      "POST",
      `${collection}?fieldValidation=Strict`,
      edit(baseManifest("defaults"), { "spec.signing": REMOVE }),
    );
    expect(res.status).toBe(201);
    expect((res.body as { spec: unknown }).spec).toEqual({
      subjects: ["shop.orders.created"],
      endpoint: { url: "https://fulfillment.example.com/hooks/orders", timeout: "15s" },
      delivery: {
        retry: { schedule: ["5s", "5m", "30m", "2h", "5h", "10h", "10h"], jitter: 0.2 },
        maxInFlight: 16,
        circuitBreaker: { failureThreshold: 10, probeInterval: "30s" },
      },
      paused: false,
    });
  });

  it("defaults Secret keys where the reference exists", async () => {
    const res = await api.call(
      "POST",
      `${collection}?fieldValidation=Strict`,
      edit(baseManifest("secret-keys"), {
        "spec.endpoint.auth": { bearer: { secretRef: { name: "tok" } } },
        "spec.endpoint.tls": {
          caBundle: { secretRef: { name: "ca" } },
          clientCertificate: { secretRef: { name: "c" } },
        },
        "spec.signing": {
          secretRef: { name: "s" },
          previousSecretRef: { name: "o" },
          previousValidUntil: "2030-01-01T00:00:00Z",
        },
      }),
    );
    expect(res.status).toBe(201);
    expect((res.body as { spec: unknown }).spec).toMatchObject({
      endpoint: {
        auth: { bearer: { secretRef: { name: "tok", key: "token" } } },
        tls: {
          caBundle: { secretRef: { name: "ca", key: "ca.crt" } },
          clientCertificate: { secretRef: { name: "c" } },
        },
      },
      signing: { secretRef: { name: "s", key: "secret" }, previousSecretRef: { name: "o", key: "secret" } },
    });
  });

  it("without strict field validation, drops a secretRef namespace with a warning (so kubectl's Strict default matters)", async () => {
    const res = await api.call(
      "POST",
      `${collection}?fieldValidation=Warn`,
      edit(baseManifest("lenient"), { "spec.signing.secretRef.namespace": "other" }),
    );
    expect(res.status).toBe(201);
    expect(res.warnings.join("\n")).toContain('unknown field \\"spec.signing.secretRef.namespace\\"');
    expect((res.body as { spec: { signing: unknown } }).spec.signing).toEqual({
      secretRef: { name: "orders-webhook", key: "secret" },
    });
  });
});
