/**
 * The WebhookSubscription API (hookstream.io/v1alpha1) as TypeScript sees it.
 *
 * Hand-written to mirror src/api/schema.ts field for field; test/unit/api/types-schema.test.ts fails
 * when the two disagree. Optional here means "may be absent in what a user applies"; the API server
 * fills the schema defaults in (see src/api/defaults.ts) and `withDefaults` does the same in memory.
 */

export const GROUP = "hookstream.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "WebhookSubscription";
export const LIST_KIND = "WebhookSubscriptionList";
export const PLURAL = "webhooksubscriptions";
export const SINGULAR = "webhooksubscription";
export const SHORT_NAME = "whs";
export const CATEGORY = "hookstream";

/** A Go duration as users write it: "500ms", "15s", "5m", "1h30m" (see src/api/duration.ts). */
export type Duration = string;

/** An RFC 3339 timestamp as the API server writes it ("2025-01-02T03:04:05Z"). */
export type Timestamp = string;

/** The part of ObjectMeta the operator reads; the API server owns the rest. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: Timestamp;
  deletionTimestamp?: Timestamp;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [key: string]: unknown;
}

/** A Secret in the subscription's own namespace (there is deliberately no namespace field). */
export interface SecretRef {
  name: string;
}

/** A key of a Secret in the subscription's own namespace. */
export interface SecretKeyRef extends SecretRef {
  /** Defaults depend on where the reference is used ("token", "ca.crt", "secret"). */
  key?: string;
}

export interface BearerAuth {
  /** The Secret key holding the token; key defaults to "token". */
  secretRef: SecretKeyRef;
}

export interface BasicAuth {
  /** A Secret with the keys `username` and `password`. */
  secretRef: SecretRef;
}

/** Exactly one of bearer or basic (the schema enforces it). */
export interface EndpointAuth {
  bearer?: BearerAuth;
  basic?: BasicAuth;
}

export interface CABundle {
  /** The Secret key holding PEM CA certificates; key defaults to "ca.crt". */
  secretRef: SecretKeyRef;
}

export interface ClientCertificate {
  /** A kubernetes.io/tls Secret (keys `tls.crt` and `tls.key`). */
  secretRef: SecretRef;
}

export interface EndpointTLS {
  caBundle?: CABundle;
  clientCertificate?: ClientCertificate;
}

export interface Endpoint {
  url: string;
  /** Default "15s"; 1s..5m. */
  timeout?: Duration;
  headers?: Record<string, string>;
  auth?: EndpointAuth;
  tls?: EndpointTLS;
}

export interface Signing {
  /** The Secret key holding `whsec_<base64>`; key defaults to "secret". */
  secretRef: SecretKeyRef;
  /** The secret being rotated out; requires previousValidUntil. */
  previousSecretRef?: SecretKeyRef;
  /** Until when deliveries are also signed with previousSecretRef; requires previousSecretRef. */
  previousValidUntil?: Timestamp;
}

export interface RetryPolicy {
  /** Waits before each retry; default 5s, 5m, 30m, 2h, 5h, 10h, 10h. */
  schedule?: Duration[];
  /** Fraction of random spread on each wait, 0..1; default 0.2. */
  jitter?: number;
}

export interface RateLimit {
  /** Deliveries started per second, (0, 10000]. */
  perSecond: number;
  /** Default ceil(perSecond); 1..10000. */
  burst?: number;
}

export interface CircuitBreaker {
  /** Consecutive failures that open the breaker; default 10. */
  failureThreshold?: number;
  /** While open, how often one probe delivery is tried; default "30s". */
  probeInterval?: Duration;
}

export interface Delivery {
  retry?: RetryPolicy;
  /** Default 16; 1..1024. */
  maxInFlight?: number;
  rateLimit?: RateLimit;
  circuitBreaker?: CircuitBreaker;
  deadLetterSubject?: string;
}

export interface WebhookSubscriptionSpec {
  subjects: string[];
  filter?: string;
  endpoint: Endpoint;
  signing?: Signing;
  delivery?: Delivery;
  /** Default false. */
  paused?: boolean;
}

export type ConditionStatus = "True" | "False" | "Unknown";

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: Timestamp;
  reason: string;
  message: string;
}

export const ENDPOINT_STATES = ["Active", "Backoff", "CircuitOpen", "Disabled", "Paused"] as const;
export type EndpointState = (typeof ENDPOINT_STATES)[number];

export interface DeliveryCounts {
  succeeded?: number;
  failed?: number;
  retrying?: number;
  deadLettered?: number;
}

export interface LastAttempt {
  time?: Timestamp;
  eventId?: string;
  /** Absent when no HTTP response arrived (connection error, timeout). */
  statusCode?: number;
  durationMs?: number;
  error?: string;
}

export interface WebhookSubscriptionStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  endpointState?: EndpointState;
  deliveries?: DeliveryCounts;
  lastAttempt?: LastAttempt;
  lastSuccessTime?: Timestamp;
  routes?: number;
}

export interface WebhookSubscription {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: WebhookSubscriptionSpec;
  status?: WebhookSubscriptionStatus;
}

export interface WebhookSubscriptionList {
  apiVersion: typeof API_VERSION;
  kind: typeof LIST_KIND;
  metadata: { resourceVersion?: string; continue?: string };
  items: WebhookSubscription[];
}
