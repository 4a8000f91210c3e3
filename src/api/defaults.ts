/**
 * Defaults and bounds of the WebhookSubscription API: one set of constants that both the CRD schema
 * (src/api/schema.ts, `default:` and minimum/maximum) and the operator (`withDefaults`) use.
 * Pure: no I/O.
 */
import type {
  BasicAuth,
  CABundle,
  ClientCertificate,
  Endpoint,
  Signing,
  WebhookSubscriptionSpec,
} from "./types.js";

export const DEFAULT_TIMEOUT = "15s";
export const DEFAULT_RETRY_SCHEDULE: readonly string[] = Object.freeze([
  "5s",
  "5m",
  "30m",
  "2h",
  "5h",
  "10h",
  "10h",
]);
export const DEFAULT_JITTER = 0.2;
export const DEFAULT_MAX_IN_FLIGHT = 16;
export const DEFAULT_FAILURE_THRESHOLD = 10;
export const DEFAULT_PROBE_INTERVAL = "30s";
export const DEFAULT_PAUSED = false;
/** Default Secret keys, by where the reference is used. */
export const DEFAULT_BEARER_TOKEN_KEY = "token";
export const DEFAULT_CA_BUNDLE_KEY = "ca.crt";
export const DEFAULT_SIGNING_SECRET_KEY = "secret";

/** Bounds the schema enforces; the operator may rely on them for objects the API server accepted. */
export const LIMITS = Object.freeze({
  subjects: { min: 1, max: 32 },
  subjectLength: 255,
  filterLength: 4096,
  urlLength: 2048,
  timeout: { min: "1s", max: "5m" },
  headers: { max: 32, nameLength: 256, valueLength: 4096 },
  secretNameLength: 253,
  secretKeyLength: 253,
  retrySchedule: { min: 0, max: 20 },
  retryDelay: { min: "1s", max: "24h" },
  jitter: { min: 0, max: 1 },
  maxInFlight: { min: 1, max: 1024 },
  perSecond: { max: 10_000 },
  burst: { min: 1, max: 10_000 },
  failureThreshold: { min: 1, max: 1000 },
  probeInterval: { min: "1s", max: "1h" },
  durationLength: 32,
});

/**
 * Header names a subscription may not set: hookstream writes them itself, the HTTP client owns them,
 * or (authorization) they carry credentials, which belong in a Secret (spec.endpoint.auth).
 * Lower case; header names compare case-insensitively.
 */
export const RESERVED_HEADERS: readonly string[] = Object.freeze([
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "hookstream-subject",
  "hookstream-subscription",
  "content-length",
  "host",
  "authorization",
  "connection",
  "transfer-encoding",
  "te",
  "upgrade",
  "keep-alive",
  "expect",
  "proxy-authorization",
]);

/** A spec with every default applied: what the operator works with. */
export interface DefaultedSpec {
  subjects: string[];
  filter?: string;
  endpoint: DefaultedEndpoint;
  signing?: DefaultedSigning;
  delivery: DefaultedDelivery;
  paused: boolean;
}

export interface DefaultedEndpoint {
  url: string;
  timeout: string;
  headers: Record<string, string>;
  auth?:
    | { bearer: { secretRef: { name: string; key: string } }; basic?: undefined }
    | { basic: BasicAuth; bearer?: undefined };
  tls?: {
    caBundle?: { secretRef: { name: string; key: string } };
    clientCertificate?: ClientCertificate;
  };
}

export interface DefaultedSigning {
  secretRef: { name: string; key: string };
  previousSecretRef?: { name: string; key: string };
  previousValidUntil?: string;
}

export interface DefaultedDelivery {
  retry: { schedule: string[]; jitter: number };
  maxInFlight: number;
  rateLimit?: { perSecond: number; burst: number };
  circuitBreaker: { failureThreshold: number; probeInterval: string };
  deadLetterSubject?: string;
}

/**
 * Applies every default, the way the API server would plus what a schema cannot express
 * (rateLimit.burst defaults to ceil(perSecond)). Pure: returns new objects, never mutates `spec`.
 * Values already present are kept as they are; validation is the schema's job.
 */
export function withDefaults(spec: WebhookSubscriptionSpec): DefaultedSpec {
  const delivery = spec.delivery ?? {};
  const out: DefaultedSpec = {
    subjects: [...spec.subjects],
    endpoint: defaultEndpoint(spec.endpoint),
    delivery: {
      retry: {
        schedule: [...(delivery.retry?.schedule ?? DEFAULT_RETRY_SCHEDULE)],
        jitter: delivery.retry?.jitter ?? DEFAULT_JITTER,
      },
      maxInFlight: delivery.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      circuitBreaker: {
        failureThreshold: delivery.circuitBreaker?.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
        probeInterval: delivery.circuitBreaker?.probeInterval ?? DEFAULT_PROBE_INTERVAL,
      },
    },
    paused: spec.paused ?? DEFAULT_PAUSED,
  };
  if (spec.filter !== undefined) out.filter = spec.filter;
  if (spec.signing !== undefined) out.signing = defaultSigning(spec.signing);
  if (delivery.rateLimit !== undefined) {
    const { perSecond, burst } = delivery.rateLimit;
    out.delivery.rateLimit = { perSecond, burst: burst ?? Math.max(1, Math.ceil(perSecond)) };
  }
  if (delivery.deadLetterSubject !== undefined) out.delivery.deadLetterSubject = delivery.deadLetterSubject;
  return out;
}

function keyRef(ref: { name: string; key?: string }, key: string): { name: string; key: string } {
  return { name: ref.name, key: ref.key ?? key };
}

function defaultEndpoint(endpoint: Endpoint): DefaultedEndpoint {
  const out: DefaultedEndpoint = {
    url: endpoint.url,
    timeout: endpoint.timeout ?? DEFAULT_TIMEOUT,
    headers: { ...endpoint.headers },
  };
  const auth = endpoint.auth;
  if (auth?.bearer !== undefined) {
    out.auth = { bearer: { secretRef: keyRef(auth.bearer.secretRef, DEFAULT_BEARER_TOKEN_KEY) } };
  } else if (auth?.basic !== undefined) {
    out.auth = { basic: { secretRef: { name: auth.basic.secretRef.name } } };
  }
  if (endpoint.tls !== undefined) {
    const tls: NonNullable<DefaultedEndpoint["tls"]> = {};
    const ca: CABundle | undefined = endpoint.tls.caBundle;
    if (ca !== undefined) tls.caBundle = { secretRef: keyRef(ca.secretRef, DEFAULT_CA_BUNDLE_KEY) };
    const cert = endpoint.tls.clientCertificate;
    if (cert !== undefined) tls.clientCertificate = { secretRef: { name: cert.secretRef.name } };
    out.tls = tls;
  }
  return out;
}

function defaultSigning(signing: Signing): DefaultedSigning {
  const out: DefaultedSigning = { secretRef: keyRef(signing.secretRef, DEFAULT_SIGNING_SECRET_KEY) };
  if (signing.previousSecretRef !== undefined)
    out.previousSecretRef = keyRef(signing.previousSecretRef, DEFAULT_SIGNING_SECRET_KEY);
  if (signing.previousValidUntil !== undefined) out.previousValidUntil = signing.previousValidUntil;
  return out;
}
