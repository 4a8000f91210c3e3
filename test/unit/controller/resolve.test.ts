import { describe, expect, it } from "@jest/globals";
import { withDefaults } from "../../../src/api/defaults.js";
import type { WebhookSubscription, WebhookSubscriptionSpec } from "../../../src/api/types.js";
import { ALLOW_ALL, parsePolicy, type SubjectPolicy } from "../../../src/controller/policy.js";
import {
  REASONS,
  redactUrl,
  referencedSecrets,
  resolveSubscription,
  type CachedSecret,
  type ResolvedSubscription,
  type SecretLookup,
  type Verdict,
} from "../../../src/controller/resolve.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const NS = "shop";

// Fixed keys (32 bytes each), so failures print the same text on every run.
const KEY = Buffer.alloc(32, 7);
const PREV_KEY = Buffer.alloc(32, 9);
const SECRET = `whsec_${KEY.toString("base64")}`;
const PREV_SECRET = `whsec_${PREV_KEY.toString("base64")}`;

const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
const KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n";
const EC_KEY_PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\n-----END EC PRIVATE KEY-----\n";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** Secrets of the namespace, given as plain text (the lookup serves them base64, like the API server). */
function secretsOf(plain: Record<string, Record<string, string>>, namespace = NS): SecretLookup {
  return (ns, name) => {
    if (ns !== namespace) return undefined;
    const data = plain[name];
    if (data === undefined) return undefined;
    const secret: CachedSecret = {
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    };
    return secret;
  };
}

function subscription(
  spec: Partial<WebhookSubscriptionSpec> = {},
  namespace = NS,
  name = "orders",
): WebhookSubscription {
  return {
    apiVersion: "hookstream.io/v1alpha1",
    kind: "WebhookSubscription",
    metadata: { name, namespace, uid: "uid-1", generation: 4 },
    spec: {
      subjects: ["shop.orders.created", "shop.orders.*.paid"],
      endpoint: { url: "https://receiver.example.com/hooks/orders" },
      ...spec,
    },
  };
}

function resolve(
  spec: Partial<WebhookSubscriptionSpec>,
  secrets: Record<string, Record<string, string>> = {},
  policy: SubjectPolicy = ALLOW_ALL,
  namespace = NS,
): Verdict {
  return resolveSubscription(subscription(spec, namespace), secretsOf(secrets, NS), policy, NOW);
}

function accepted(v: Verdict): ResolvedSubscription {
  if (!v.ok) throw new Error(`expected ok, got ${v.reason}: ${v.message}`);
  return v.sub;
}

function rejected(v: Verdict, reason: string): { message: string; secretNames: string[] } {
  if (v.ok) throw new Error(`expected ${reason}, got ok (${v.reason})`);
  expect(v.reason).toBe(reason);
  return v;
}

const signing = { secretRef: { name: "signing" } };

describe("resolveSubscription: accepted", () => {
  it("accepts a signed subscription and decodes its whsec_ key", () => {
    const v = resolve({ signing }, { signing: { secret: `${SECRET}\n` } });
    expect(v.ok && v.reason).toBe(REASONS.accepted);
    const sub = accepted(v);
    expect(sub.signing?.current.equals(KEY)).toBe(true);
    expect(sub.signing?.previous).toBeUndefined();
    expect(sub.signing?.activeKeys(NOW)).toHaveLength(1);
    expect(sub).toMatchObject({
      key: "shop/orders",
      namespace: "shop",
      name: "orders",
      uid: "uid-1",
      generation: 4,
    });
    expect(sub.spec.subjects).toEqual(["shop.orders.created", "shop.orders.*.paid"]);
    expect(v.message).toBe("routing 2 subject patterns to https://receiver.example.com/hooks/orders");
  });

  it("reads the signing secret from a custom key", () => {
    const sub = accepted(
      resolve({ signing: { secretRef: { name: "signing", key: "k2" } } }, { signing: { k2: SECRET } }),
    );
    expect(sub.signing?.current.equals(KEY)).toBe(true);
  });

  it("says when a subscription is unsigned, in the singular for one pattern", () => {
    const v = resolve({ subjects: ["shop.orders.created"] });
    const sub = accepted(v);
    expect(sub.signing).toBeUndefined();
    expect(sub.authorization).toBeUndefined();
    expect(sub.tls).toBeUndefined();
    expect(sub.filter).toBeUndefined();
    expect(v.message).toBe(
      "routing 1 subject pattern to https://receiver.example.com/hooks/orders (unsigned: spec.signing is not set)",
    );
  });

  it("never shows the endpoint's query string in the message", () => {
    const v = resolve({ endpoint: { url: "https://r.example.com/h?token=hunter2&x=1" } });
    accepted(v);
    expect(v.message).toContain("https://r.example.com/h?…");
    expect(v.message).not.toContain("hunter2");
  });

  it("compiles the filter", () => {
    const sub = accepted(resolve({ filter: 'data.total > 100 && headers["x-region"] == "eu"' }));
    expect(sub.filter).toBeDefined();
  });

  it("is Paused (ok, routed) when spec.paused is set, still fully resolved", () => {
    const v = resolve({ paused: true, signing }, { signing: { secret: SECRET } });
    expect(v.ok).toBe(true);
    expect(v.reason).toBe(REASONS.paused);
    expect(v.message).toMatch(/paused/);
    expect(accepted(v).signing?.current.equals(KEY)).toBe(true);
  });

  it("a paused subscription with a broken reference is still rejected", () => {
    rejected(resolve({ paused: true, signing }), REASONS.secretNotFound);
  });
});

describe("resolveSubscription: durations", () => {
  it("applies the defaults", () => {
    const sub = accepted(resolve({}));
    expect(sub.timeoutMs).toBe(15_000);
    expect(sub.retryScheduleMs).toEqual([
      5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(sub.probeIntervalMs).toBe(30_000);
  });

  it("parses the spec's durations", () => {
    const sub = accepted(
      resolve({
        endpoint: { url: "https://r.example.com/", timeout: "1m30s" },
        delivery: {
          retry: { schedule: ["1s", "2m", "1h30m"] },
          circuitBreaker: { probeInterval: "45s" },
        },
      }),
    );
    expect(sub.timeoutMs).toBe(90_000);
    expect(sub.retryScheduleMs).toEqual([1000, 120_000, 5_400_000]);
    expect(sub.probeIntervalMs).toBe(45_000);
  });
});

describe("resolveSubscription: secrets", () => {
  it("SecretNotFound when the Secret is missing, naming it", () => {
    const r = rejected(resolve({ signing }), REASONS.secretNotFound);
    expect(r.message).toBe("spec.signing.secretRef: Secret shop/signing not found");
    expect(r.secretNames).toEqual(["signing"]);
  });

  it("looks Secrets up in the subscription's own namespace only", () => {
    const v = resolveSubscription(
      subscription({ signing }, "other"),
      secretsOf({ signing: { secret: SECRET } }, NS),
      ALLOW_ALL,
      NOW,
    );
    rejected(v, REASONS.secretNotFound);
    expect(v.message).toContain("Secret other/signing not found");
  });

  it("SecretNotFound when the key is missing, listing the keys the Secret has", () => {
    const r = rejected(
      resolve({ signing }, { signing: { token: SECRET, other: "x" } }),
      REASONS.secretNotFound,
    );
    expect(r.message).toBe(
      'spec.signing.secretRef: Secret shop/signing has no key "secret" (it has "token", "other")',
    );
    expect(r.message).not.toContain(SECRET);
  });

  it("SecretNotFound when the Secret has no data at all", () => {
    const v = resolveSubscription(subscription({ signing }), () => ({}), ALLOW_ALL, NOW);
    expect(rejected(v, REASONS.secretNotFound).message).toContain("(it has no keys)");
  });

  const badSecrets: [string, string][] = [
    ["no prefix", KEY.toString("base64")],
    ["URL-safe alphabet", `whsec_${Buffer.alloc(32, 0xfb).toString("base64url")}=`],
    ["unpadded", `whsec_${Buffer.alloc(32, 5).toString("base64").replace(/=+$/, "")}`],
    ["too short a key", `whsec_${Buffer.alloc(8, 3).toString("base64")}`],
    ["not base64", "whsec_this is not base64 at all!!"],
  ];

  it.each(badSecrets)("InvalidSecret for a bad whsec_ value (%s), without quoting it", (_label, value) => {
    const r = rejected(resolve({ signing }, { signing: { secret: value } }), REASONS.invalidSecret);
    expect(r.message).toMatch(/^spec\.signing\.secretRef: Secret shop\/signing key "secret": /);
    const material = value.replace(/^whsec_/, "");
    expect(r.message).not.toContain(material);
    expect(r.message).not.toContain(material.slice(0, 8));
    expect(r.secretNames).toEqual(["signing"]);
  });
});

describe("resolveSubscription: key rotation", () => {
  const rotating = (until: string): Partial<WebhookSubscriptionSpec> => ({
    signing: {
      secretRef: { name: "signing" },
      previousSecretRef: { name: "signing-old" },
      previousValidUntil: until,
    },
  });
  const both = { signing: { secret: SECRET }, "signing-old": { secret: PREV_SECRET } };

  it("signs with the previous key too while previousValidUntil is in the future", () => {
    const sub = accepted(resolve(rotating("2025-06-01T13:00:00Z"), both));
    expect(sub.signing?.current.equals(KEY)).toBe(true);
    expect(sub.signing?.previous?.equals(PREV_KEY)).toBe(true);
    expect(sub.signing?.previousValidUntil?.toISOString()).toBe("2025-06-01T13:00:00.000Z");
    expect(sub.signing?.activeKeys(NOW)).toHaveLength(2);
  });

  it.each(["2025-06-01T12:00:00Z", "2025-06-01T11:59:59Z", "2024-01-01T00:00:00Z"])(
    "ignores the previous key once previousValidUntil (%s) is not in the future",
    (until) => {
      const sub = accepted(resolve(rotating(until), both));
      expect(sub.signing?.current.equals(KEY)).toBe(true);
      expect(sub.signing?.previous).toBeUndefined();
      expect(sub.signing?.activeKeys(NOW)).toHaveLength(1);
    },
  );

  it("does not read the previous Secret once it has expired", () => {
    accepted(resolve(rotating("2025-01-01T00:00:00Z"), { signing: { secret: SECRET } }));
  });

  it("ignores previousSecretRef without previousValidUntil", () => {
    const sub = accepted(
      resolve(
        { signing: { secretRef: { name: "signing" }, previousSecretRef: { name: "signing-old" } } },
        both,
      ),
    );
    expect(sub.signing?.previous).toBeUndefined();
  });

  it("SecretNotFound for a missing previous Secret during the grace period", () => {
    const r = rejected(
      resolve(rotating("2025-06-02T00:00:00Z"), { signing: { secret: SECRET } }),
      REASONS.secretNotFound,
    );
    expect(r.message).toBe("spec.signing.previousSecretRef: Secret shop/signing-old not found");
    expect(r.secretNames).toEqual(["signing", "signing-old"]);
  });

  it("InvalidSecret for a bad previous secret during the grace period, without quoting it", () => {
    const bad = "whsec_short";
    const r = rejected(
      resolve(rotating("2025-06-02T00:00:00Z"), {
        signing: { secret: SECRET },
        "signing-old": { secret: bad },
      }),
      REASONS.invalidSecret,
    );
    expect(r.message).toMatch(/^spec\.signing\.previousSecretRef: Secret shop\/signing-old key "secret": /);
    expect(r.message).not.toContain("short");
  });
});

describe("resolveSubscription: spec checks", () => {
  it("InvalidFilter when the filter does not compile", () => {
    const r = rejected(resolve({ filter: "data.total >" }), REASONS.invalidFilter);
    expect(r.message).toMatch(/^spec\.filter does not compile: /);
  });

  const policy = parsePolicy(
    [
      "namespaces:",
      '  shop: ["shop.>"]',
      '  billing: ["billing.>", "shop.orders.*.paid"]',
      "default: []",
    ].join("\n"),
  );

  it("accepts subjects the policy allows", () => {
    accepted(resolve({}, {}, policy));
    accepted(resolve({ subjects: ["shop.orders.*.paid"] }, {}, policy, "billing"));
  });

  it("SubjectNotAllowed lists the denied patterns and what is allowed", () => {
    const r = rejected(
      resolve({ subjects: ["shop.orders.created", "billing.invoices", ">"] }, {}, policy),
      REASONS.subjectNotAllowed,
    );
    expect(r.message).toBe(
      'namespace shop may not subscribe to "billing.invoices", ">"; the operator\'s subject policy allows it "shop.>"',
    );
  });

  it("SubjectNotAllowed says 'no subjects' for a namespace the policy gives nothing", () => {
    const v = resolveSubscription(subscription({}, "elsewhere"), () => undefined, policy, NOW);
    expect(rejected(v, REASONS.subjectNotAllowed).message).toMatch(/allows it no subjects$/);
  });

  it.each([
    ["shop.orders.created", "shop.orders.created"],
    ["shop.orders.x.paid", "shop.orders.*.paid"],
  ])("InvalidSpec when deadLetterSubject %s matches the subscription's pattern %s", (dl, pattern) => {
    const r = rejected(resolve({ delivery: { deadLetterSubject: dl } }), REASONS.invalidSpec);
    expect(r.message).toBe(
      `spec.delivery.deadLetterSubject "${dl}" matches spec.subjects pattern "${pattern}": dead letters would be delivered again`,
    );
  });

  it("InvalidSpec for a dead-letter subject under a '>' pattern", () => {
    rejected(
      resolve({ subjects: ["shop.>"], delivery: { deadLetterSubject: "shop.webhooks.dead" } }),
      REASONS.invalidSpec,
    );
  });

  it("accepts a dead-letter subject outside the subscription's patterns", () => {
    const sub = accepted(resolve({ delivery: { deadLetterSubject: "shop.webhooks.dead" } }));
    expect(sub.spec.delivery.deadLetterSubject).toBe("shop.webhooks.dead");
  });
});

describe("resolveSubscription: endpoint auth", () => {
  const bearer = (key?: string): Partial<WebhookSubscriptionSpec> => ({
    endpoint: {
      url: "https://r.example.com/",
      auth: { bearer: { secretRef: key === undefined ? { name: "tok" } : { name: "tok", key } } },
    },
  });
  const basic: Partial<WebhookSubscriptionSpec> = {
    endpoint: { url: "https://r.example.com/", auth: { basic: { secretRef: { name: "creds" } } } },
  };

  it("bearer: Authorization is 'Bearer <token>', trimmed, from key 'token' by default", () => {
    const sub = accepted(resolve(bearer(), { tok: { token: "  abc.def-123\n" } }));
    expect(sub.authorization).toBe("Bearer abc.def-123");
  });

  it("bearer: reads a custom key", () => {
    expect(accepted(resolve(bearer("api"), { tok: { api: "xyz" } })).authorization).toBe("Bearer xyz");
  });

  it.each([
    ["empty", "   \n"],
    ["multi-line", "line-one-secret\nline-two-secret"],
    ["carriage return", "cr-secret\rmore"],
  ])("bearer: InvalidSecret for a %s token, without quoting it", (_label, token) => {
    const r = rejected(resolve(bearer(), { tok: { token } }), REASONS.invalidSecret);
    expect(r.message).toContain("Secret shop/tok");
    for (const part of token.split(/\s+/).filter(Boolean)) expect(r.message).not.toContain(part);
  });

  it("basic: Authorization is 'Basic base64(user:pass)'; the password may contain ':'", () => {
    const sub = accepted(resolve(basic, { creds: { username: "alice", password: "p:ss wörd" } }));
    expect(sub.authorization).toBe(`Basic ${Buffer.from("alice:p:ss wörd").toString("base64")}`);
  });

  it("basic: InvalidSecret when the username contains ':', without quoting it", () => {
    const r = rejected(
      resolve(basic, { creds: { username: "ali:ce", password: "pw-value" } }),
      REASONS.invalidSecret,
    );
    expect(r.message).toContain('contains ":"');
    expect(r.message).not.toContain("ali:ce");
    expect(r.message).not.toContain("pw-value");
  });

  it("basic: SecretNotFound when the password key is missing", () => {
    const r = rejected(resolve(basic, { creds: { username: "alice" } }), REASONS.secretNotFound);
    expect(r.message).toBe(
      'spec.endpoint.auth.basic.secretRef: Secret shop/creds has no key "password" (it has "username")',
    );
  });
});

describe("resolveSubscription: endpoint TLS", () => {
  const tls = (
    t: NonNullable<WebhookSubscriptionSpec["endpoint"]["tls"]>,
  ): Partial<WebhookSubscriptionSpec> => ({
    endpoint: { url: "https://r.example.com/", tls: t },
  });

  it("reads a PEM CA bundle from key 'ca.crt' by default", () => {
    const sub = accepted(
      resolve(tls({ caBundle: { secretRef: { name: "ca" } } }), { ca: { "ca.crt": CA_PEM } }),
    );
    expect(sub.tls).toEqual({ ca: CA_PEM });
  });

  it("InvalidSecret for a CA bundle without a PEM certificate, without quoting it", () => {
    const r = rejected(
      resolve(tls({ caBundle: { secretRef: { name: "ca", key: "bundle" } } }), {
        ca: { bundle: "not-a-certificate-value" },
      }),
      REASONS.invalidSecret,
    );
    expect(r.message).toBe(
      'spec.endpoint.tls.caBundle.secretRef: Secret shop/ca key "bundle" holds no PEM certificate',
    );
  });

  it.each([
    ["PKCS#8", KEY_PEM],
    ["EC", EC_KEY_PEM],
  ])("reads a client certificate and a %s key from tls.crt and tls.key", (_label, key) => {
    const sub = accepted(
      resolve(tls({ clientCertificate: { secretRef: { name: "client" } } }), {
        client: { "tls.crt": CA_PEM, "tls.key": key },
      }),
    );
    expect(sub.tls).toEqual({ cert: CA_PEM, key });
  });

  it.each([
    ["no PEM certificate", { "tls.crt": "garbage-cert", "tls.key": KEY_PEM }],
    ["no PEM private key", { "tls.crt": CA_PEM, "tls.key": "garbage-key" }],
    ["a certificate where the key belongs", { "tls.crt": CA_PEM, "tls.key": CA_PEM }],
  ])("InvalidSecret for a client certificate Secret with %s", (_label, data) => {
    const r = rejected(
      resolve(tls({ clientCertificate: { secretRef: { name: "client" } } }), { client: data }),
      REASONS.invalidSecret,
    );
    expect(r.message).toContain(
      "Secret shop/client needs a PEM certificate in tls.crt and a PEM private key",
    );
    expect(r.message).not.toContain("garbage");
  });

  it("SecretNotFound when tls.key is missing", () => {
    const r = rejected(
      resolve(tls({ clientCertificate: { secretRef: { name: "client" } } }), {
        client: { "tls.crt": CA_PEM },
      }),
      REASONS.secretNotFound,
    );
    expect(r.message).toContain('has no key "tls.key" (it has "tls.crt")');
  });
});

describe("referencedSecrets", () => {
  it("is empty without references", () => {
    expect(referencedSecrets(withDefaults(subscription().spec))).toEqual([]);
  });

  it("lists every referenced Secret exactly once", () => {
    const spec = withDefaults(
      subscription({
        signing: {
          secretRef: { name: "shared" },
          previousSecretRef: { name: "old", key: "secret" },
          previousValidUntil: "2020-01-01T00:00:00Z",
        },
        endpoint: {
          url: "https://r.example.com/",
          auth: { bearer: { secretRef: { name: "shared", key: "token" } } },
          tls: {
            caBundle: { secretRef: { name: "ca" } },
            clientCertificate: { secretRef: { name: "client" } },
          },
        },
      }).spec,
    );
    const names = referencedSecrets(spec);
    expect([...names].sort()).toEqual(["ca", "client", "old", "shared"]);
  });

  it("lists the basic-auth Secret", () => {
    const spec = withDefaults(
      subscription({
        endpoint: { url: "https://r.example.com/", auth: { basic: { secretRef: { name: "b" } } } },
      }).spec,
    );
    expect(referencedSecrets(spec)).toEqual(["b"]);
  });

  it("is what a rejection reports, so a fix to any of them requeues the subscription", () => {
    const v = resolve({
      signing: { secretRef: { name: "s" } },
      endpoint: { url: "https://r.example.com/", tls: { caBundle: { secretRef: { name: "ca" } } } },
    });
    expect([...rejected(v, REASONS.secretNotFound).secretNames].sort()).toEqual(["ca", "s"]);
  });
});

describe("redactUrl", () => {
  it.each([
    ["https://r.example.com/hooks?token=abc", "https://r.example.com/hooks?…"],
    ["https://r.example.com:8443/a/b?x=1#frag", "https://r.example.com:8443/a/b?…"],
    ["https://r.example.com/hooks", "https://r.example.com/hooks"],
    ["https://r.example.com", "https://r.example.com/"],
    ["https://user:pa55@r.example.com/x", "https://r.example.com/x"],
    ["not a url", "(invalid URL)"],
  ])("%s → %s", (url, want) => {
    expect(redactUrl(url)).toBe(want);
  });
});
