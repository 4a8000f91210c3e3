import { parseDuration } from "../api/duration.js";
import { withDefaults, type DefaultedSpec } from "../api/defaults.js";
import type { WebhookSubscription } from "../api/types.js";
import { compileFilter, patternMatches, type CompiledFilter } from "../routing/index.js";
import { parseSecret, SigningKeys } from "../signing/index.js";
import { disallowedPatterns, type SubjectPolicy } from "./policy.js";

/** A Secret as the cache holds it: base64 data, as the API server serves it. */
export interface CachedSecret {
  type?: string;
  data?: Record<string, string>;
}

export type SecretLookup = (namespace: string, name: string) => CachedSecret | undefined;

/** Everything the delivery side needs, decoded and validated once per change, not per event. */
export interface ResolvedSubscription {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  spec: DefaultedSpec;
  filter?: CompiledFilter;
  signing?: SigningKeys;
  /** The Authorization header value, when auth is configured. */
  authorization?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  timeoutMs: number;
  retryScheduleMs: number[];
  probeIntervalMs: number;
}

export const REASONS = {
  accepted: "Accepted",
  paused: "Paused",
  secretNotFound: "SecretNotFound",
  invalidSecret: "InvalidSecret",
  invalidFilter: "InvalidFilter",
  subjectNotAllowed: "SubjectNotAllowed",
  invalidSpec: "InvalidSpec",
} as const;

export type Verdict =
  | { ok: true; sub: ResolvedSubscription; reason: string; message: string }
  | { ok: false; reason: string; message: string; secretNames: string[] };

class Rejection extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The reconcile core, pure: given a subscription, the Secrets of its namespace and the tenant policy,
 * either everything its deliveries need or the precise reason it cannot work. The API server's schema
 * has already checked shapes; this checks what a schema cannot see.
 */
export function resolveSubscription(
  obj: WebhookSubscription,
  secrets: SecretLookup,
  policy: SubjectPolicy,
  now: Date,
): Verdict {
  const namespace = obj.metadata.namespace ?? "";
  const name = obj.metadata.name ?? "";
  const spec = withDefaults(obj.spec);
  const secretNames = referencedSecrets(spec);
  try {
    const denied = disallowedPatterns(policy, namespace, spec.subjects);
    if (denied.length) {
      const allowed = policy.allowedFor(namespace) ?? [];
      throw new Rejection(
        REASONS.subjectNotAllowed,
        `namespace ${namespace} may not subscribe to ${denied.map((d) => `"${d}"`).join(", ")}; ` +
          `the operator's subject policy allows it ${allowed.length ? allowed.map((a) => `"${a}"`).join(", ") : "no subjects"}`,
      );
    }
    const dl = spec.delivery.deadLetterSubject;
    if (dl !== undefined) {
      const loop = spec.subjects.find((p) => patternMatches(p, dl));
      if (loop) {
        throw new Rejection(
          REASONS.invalidSpec,
          `spec.delivery.deadLetterSubject "${dl}" matches spec.subjects pattern "${loop}": dead letters would be delivered again`,
        );
      }
    }
    let filter: CompiledFilter | undefined;
    if (spec.filter !== undefined) {
      const compiled = compileFilter(spec.filter);
      if (!compiled.ok)
        throw new Rejection(REASONS.invalidFilter, `spec.filter does not compile: ${compiled.error}`);
      filter = compiled.filter;
    }
    const read = (ref: { name: string; key: string }, field: string): string => {
      const secret = secrets(namespace, ref.name);
      if (!secret) {
        throw new Rejection(REASONS.secretNotFound, `${field}: Secret ${namespace}/${ref.name} not found`);
      }
      const value = secret.data?.[ref.key];
      if (value === undefined) {
        const keys = Object.keys(secret.data ?? {});
        throw new Rejection(
          REASONS.secretNotFound,
          `${field}: Secret ${namespace}/${ref.name} has no key "${ref.key}" (it has ${keys.length ? keys.map((k) => `"${k}"`).join(", ") : "no keys"})`,
        );
      }
      return Buffer.from(value, "base64").toString("utf8");
    };

    let signing: SigningKeys | undefined;
    if (spec.signing) {
      const current = parseSecret(read(spec.signing.secretRef, "spec.signing.secretRef"));
      if (!current.ok) {
        throw new Rejection(
          REASONS.invalidSecret,
          `spec.signing.secretRef: Secret ${namespace}/${spec.signing.secretRef.name} key "${spec.signing.secretRef.key}": ${current.error}`,
        );
      }
      const prevRef = spec.signing.previousSecretRef;
      const until = spec.signing.previousValidUntil ? new Date(spec.signing.previousValidUntil) : undefined;
      if (prevRef && until && until.getTime() > now.getTime()) {
        const previous = parseSecret(read(prevRef, "spec.signing.previousSecretRef"));
        if (!previous.ok) {
          throw new Rejection(
            REASONS.invalidSecret,
            `spec.signing.previousSecretRef: Secret ${namespace}/${prevRef.name} key "${prevRef.key}": ${previous.error}`,
          );
        }
        signing = new SigningKeys({
          current: current.key,
          previous: previous.key,
          previousValidUntil: until,
        });
      } else {
        signing = new SigningKeys({ current: current.key });
      }
    }

    let authorization: string | undefined;
    const auth = spec.endpoint.auth;
    if (auth?.bearer) {
      const token = read(auth.bearer.secretRef, "spec.endpoint.auth.bearer.secretRef").trim();
      if (!token || /[\r\n]/.test(token)) {
        throw new Rejection(
          REASONS.invalidSecret,
          `spec.endpoint.auth.bearer.secretRef: the token in Secret ${namespace}/${auth.bearer.secretRef.name} is empty or spans lines`,
        );
      }
      authorization = `Bearer ${token}`;
    } else if (auth?.basic) {
      const ref = auth.basic.secretRef.name;
      const user = read({ name: ref, key: "username" }, "spec.endpoint.auth.basic.secretRef");
      const pass = read({ name: ref, key: "password" }, "spec.endpoint.auth.basic.secretRef");
      if (user.includes(":")) {
        throw new Rejection(
          REASONS.invalidSecret,
          `spec.endpoint.auth.basic.secretRef: the username in Secret ${namespace}/${ref} contains ":"`,
        );
      }
      authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
    }

    let tls: ResolvedSubscription["tls"];
    if (spec.endpoint.tls) {
      tls = {};
      const ca = spec.endpoint.tls.caBundle;
      if (ca) {
        tls.ca = read(ca.secretRef, "spec.endpoint.tls.caBundle.secretRef");
        if (!tls.ca.includes("-----BEGIN CERTIFICATE-----")) {
          throw new Rejection(
            REASONS.invalidSecret,
            `spec.endpoint.tls.caBundle.secretRef: Secret ${namespace}/${ca.secretRef.name} key "${ca.secretRef.key}" holds no PEM certificate`,
          );
        }
      }
      const cc = spec.endpoint.tls.clientCertificate;
      if (cc) {
        tls.cert = read(
          { name: cc.secretRef.name, key: "tls.crt" },
          "spec.endpoint.tls.clientCertificate.secretRef",
        );
        tls.key = read(
          { name: cc.secretRef.name, key: "tls.key" },
          "spec.endpoint.tls.clientCertificate.secretRef",
        );
        if (
          !tls.cert.includes("-----BEGIN CERTIFICATE-----") ||
          !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(tls.key)
        ) {
          throw new Rejection(
            REASONS.invalidSecret,
            `spec.endpoint.tls.clientCertificate.secretRef: Secret ${namespace}/${cc.secretRef.name} needs a PEM certificate in tls.crt and a PEM private key in tls.key`,
          );
        }
      }
    }

    const sub: ResolvedSubscription = {
      key: `${namespace}/${name}`,
      namespace,
      name,
      uid: obj.metadata.uid ?? "",
      generation: obj.metadata.generation ?? 0,
      spec,
      timeoutMs: parseDuration(spec.endpoint.timeout) ?? 15_000,
      retryScheduleMs: spec.delivery.retry.schedule.map((d) => parseDuration(d) ?? 5000),
      probeIntervalMs: parseDuration(spec.delivery.circuitBreaker.probeInterval) ?? 30_000,
    };
    if (filter) sub.filter = filter;
    if (signing) sub.signing = signing;
    if (authorization) sub.authorization = authorization;
    if (tls) sub.tls = tls;
    if (spec.paused) {
      return {
        ok: true,
        sub,
        reason: REASONS.paused,
        message: "delivery is paused; matching events are kept until it resumes",
      };
    }
    const n = spec.subjects.length;
    return {
      ok: true,
      sub,
      reason: REASONS.accepted,
      message: `routing ${n} subject pattern${n === 1 ? "" : "s"} to ${redactUrl(spec.endpoint.url)}${signing ? "" : " (unsigned: spec.signing is not set)"}`,
    };
  } catch (err) {
    if (err instanceof Rejection) return { ok: false, reason: err.reason, message: err.message, secretNames };
    throw err;
  }
}

/** Names of the Secrets a spec reads, so a Secret's change can requeue the subscriptions using it. */
export function referencedSecrets(spec: DefaultedSpec): string[] {
  const names = new Set<string>();
  if (spec.signing) {
    names.add(spec.signing.secretRef.name);
    if (spec.signing.previousSecretRef) names.add(spec.signing.previousSecretRef.name);
  }
  const auth = spec.endpoint.auth;
  if (auth?.bearer) names.add(auth.bearer.secretRef.name);
  if (auth?.basic) names.add(auth.basic.secretRef.name);
  if (spec.endpoint.tls?.caBundle) names.add(spec.endpoint.tls.caBundle.secretRef.name);
  if (spec.endpoint.tls?.clientCertificate) names.add(spec.endpoint.tls.clientCertificate.secretRef.name);
  return [...names];
}

/** The URL without query string, for status messages (queries often carry tokens). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? "?…" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}
