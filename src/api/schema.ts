/**
 * The WebhookSubscription CRD: its OpenAPI v3 schema, validation rules and printer columns.
 *
 * This file is the one source of truth for the API's shape: hack/gen-crd.ts writes it to
 * crds/ and charts/hookstream/crds/ (`npm run gen:crd`), src/api/types.ts mirrors it (a unit test
 * proves they agree), and src/api/defaults.ts provides the defaults and bounds it uses.
 *
 * Descriptions are what `kubectl explain whs.spec...` shows an application team: say what a field
 * does, its default and its bounds. Pure data: no I/O.
 */
import {
  DEFAULT_BEARER_TOKEN_KEY,
  DEFAULT_CA_BUNDLE_KEY,
  DEFAULT_FAILURE_THRESHOLD,
  DEFAULT_JITTER,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_PAUSED,
  DEFAULT_PROBE_INTERVAL,
  DEFAULT_RETRY_SCHEDULE,
  DEFAULT_SIGNING_SECRET_KEY,
  DEFAULT_TIMEOUT,
  LIMITS,
  RESERVED_HEADERS,
} from "./defaults.js";
import { parseDuration } from "./duration.js";
import {
  CATEGORY,
  ENDPOINT_STATES,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAME,
  SINGULAR,
  VERSION,
} from "./types.js";

/** One `x-kubernetes-validations` entry (a CEL rule evaluated by the API server). */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  fieldPath?: string;
}

/**
 * The subset of apiextensions.k8s.io/v1 JSONSchemaProps this CRD uses, with the real key names
 * (client-node's V1JSONSchemaProps spells the extensions in camelCase, which is not what YAML needs).
 */
export interface JSONSchemaProps {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  default?: unknown;
  enum?: (string | number)[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  "x-kubernetes-validations"?: ValidationRule[];
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: "Namespaced" | "Cluster";
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

// ---------------------------------------------------------------------------------------------
// Regular expressions (RE2 syntax: the API server evaluates them with Go's regexp package).

/** One subject token: no dot, no wildcard character, no whitespace or control character. */
const TOKEN = String.raw`[^.*>\p{Z}\p{Cc}\x{FEFF}]+`;
/** A NATS subscription pattern: `*` only as a whole token, `>` only as the whole last token. */
export const SUBJECT_PATTERN_REGEX = String.raw`^(?:>|(?:${TOKEN}|\*)(?:\.(?:${TOKEN}|\*))*(?:\.>)?)$`;
/** A NATS subject to publish on: no wildcards at all. */
export const PLAIN_SUBJECT_REGEX = String.raw`^${TOKEN}(?:\.${TOKEN})*$`;
/** A Go duration limited to the units people use in manifests. */
export const DURATION_REGEX = String.raw`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`;
/** An HTTP header field name (RFC 9110 token). */
export const HEADER_NAME_REGEX = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** An HTTP header value: no control characters other than horizontal tab. */
export const HEADER_VALUE_REGEX = String.raw`^[^\x00-\x08\x0A-\x1F\x7F]*$`;
/** A DNS-1123 subdomain, what Kubernetes requires of a Secret's name. */
export const DNS1123_SUBDOMAIN_REGEX = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;
/** A key of a Secret's data. */
export const SECRET_KEY_REGEX = "^[-._a-zA-Z0-9]+$";
/** metav1.Condition type and reason, as upstream validates them. */
const CONDITION_TYPE_REGEX = String.raw`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$`;
const CONDITION_REASON_REGEX = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";

/** The default schedule's total wait, in whole hours, for its description. */
const DEFAULT_RETRY_HOURS = Math.round(
  DEFAULT_RETRY_SCHEDULE.reduce((sum, d) => sum + (parseDuration(d) ?? Number.NaN), 0) / 3_600_000,
);

const celList = (items: readonly string[]): string => `[${items.map((s) => `'${s}'`).join(", ")}]`;

// ---------------------------------------------------------------------------------------------
// Building blocks.

function durationField(
  description: string,
  bounds: { min: string; max: string },
  def?: string,
): JSONSchemaProps {
  return {
    type: "string",
    description,
    ...(def === undefined ? {} : { default: def }),
    maxLength: LIMITS.durationLength,
    pattern: DURATION_REGEX,
    "x-kubernetes-validations": [
      {
        // The API server skips CEL rules once the object breaks the schema, but should this rule ever see
        // a value the pattern rejects, the guard leaves it to the pattern's error instead of failing in
        // duration().
        rule: `!self.matches(r'${DURATION_REGEX}') || (duration(self) >= duration('${bounds.min}') && duration(self) <= duration('${bounds.max}'))`,
        message: `must be a duration between ${bounds.min} and ${bounds.max}`,
      },
    ],
  };
}

function secretName(what: string): JSONSchemaProps {
  return {
    type: "string",
    description: `Name of the Secret ${what}, in the subscription's own namespace (a Secret in another namespace cannot be referenced).`,
    minLength: 1,
    maxLength: LIMITS.secretNameLength,
    pattern: DNS1123_SUBDOMAIN_REGEX,
  };
}

const NAMESPACE_NOTE =
  "The Secret must be in the subscription's namespace; there is no namespace field, and kubectl rejects one (strict field validation).";

/** A reference to one key of a Secret in the subscription's namespace. */
function secretKeyRef(what: string, holds: string, defaultKey: string): JSONSchemaProps {
  return {
    type: "object",
    description: `The Secret ${what}. ${NAMESPACE_NOTE}`,
    required: ["name"],
    properties: {
      name: secretName(what),
      key: {
        type: "string",
        description: `Key in the Secret's data that holds ${holds}. Default: "${defaultKey}".`,
        default: defaultKey,
        minLength: 1,
        maxLength: LIMITS.secretKeyLength,
        pattern: SECRET_KEY_REGEX,
      },
    },
  };
}

/** A reference to a whole Secret in the subscription's namespace, whose keys are fixed. */
function secretRef(what: string, keys: string): JSONSchemaProps {
  return {
    type: "object",
    description: `The Secret ${what}; it must have the keys ${keys}. ${NAMESPACE_NOTE}`,
    required: ["name"],
    properties: { name: secretName(what) },
  };
}

const timestamp = (description: string): JSONSchemaProps => ({
  type: "string",
  format: "date-time",
  description,
});

const counter = (description: string): JSONSchemaProps => ({
  type: "integer",
  format: "int64",
  minimum: 0,
  description,
});

// ---------------------------------------------------------------------------------------------
// spec

const subjects: JSONSchemaProps = {
  type: "array",
  description:
    'NATS subjects whose events this subscription delivers, as subscription patterns: tokens separated by ".", ' +
    '"*" matches exactly one token ("shop.orders.*.paid") and ">" as the last token matches one or more ' +
    `("shop.refunds.>"). ${LIMITS.subjects.min} to ${LIMITS.subjects.max} distinct patterns of at most ` +
    `${LIMITS.subjectLength} characters.`,
  minItems: LIMITS.subjects.min,
  maxItems: LIMITS.subjects.max,
  "x-kubernetes-list-type": "set",
  items: {
    type: "string",
    description:
      "A NATS subject or wildcard pattern, such as shop.orders.created, shop.orders.*.paid or shop.>.",
    minLength: 1,
    maxLength: LIMITS.subjectLength,
    "x-kubernetes-validations": [
      {
        rule: `self.matches(r'${SUBJECT_PATTERN_REGEX}')`,
        message:
          'must be a NATS subject pattern: non-empty tokens separated by ".", no whitespace, "*" only as a whole ' +
          'token, ">" only as the whole last token',
      },
    ],
  },
};

const filter: JSONSchemaProps = {
  type: "string",
  description:
    "Optional CEL expression that an event must satisfy to be delivered, over the variables subject " +
    "(string), headers (map of string to string), data (the payload parsed as JSON), id " +
    "(string) and time (timestamp); for example: " +
    `data.total > 100 && headers["x-region"] == "eu". Omit it to deliver every event on the subjects. At most ` +
    `${LIMITS.filterLength} characters; the operator reports an expression that does not compile in the ` +
    "Ready condition. A filter that reads data dead-letters events whose payload is not JSON; a filter " +
    'that fails at run time (a missing key, say) does not match: write has(data.x) or "k" in headers to be safe.',
  minLength: 1,
  maxLength: LIMITS.filterLength,
};

const url: JSONSchemaProps = {
  type: "string",
  description:
    "The receiver's URL: http:// or https:// with a host, such as https://fulfillment.example.com/hooks/orders. " +
    "No user:password@ (use auth) and no #fragment. Every matching event is sent to it as an HTTP POST. " +
    `At most ${LIMITS.urlLength} characters.`,
  minLength: 1,
  maxLength: LIMITS.urlLength,
  "x-kubernetes-validations": [
    {
      rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",
      message: "must be an absolute http:// or https:// URL with a host",
    },
    {
      rule:
        "!isURL(self) || url(self).getPort() == '' || (size(url(self).getPort()) <= 5 && " +
        "int(url(self).getPort()) >= 1 && int(url(self).getPort()) <= 65535)",
      message: "the port must be between 1 and 65535",
    },
    {
      rule: String.raw`!self.matches(r'\s')`,
      message: "must not contain whitespace (percent-encode it as %20)",
    },
    {
      rule: "!self.matches(r'^[^:/?#]*://[^/?#]*@')",
      message: "must not contain user information (user:password@); use spec.endpoint.auth",
    },
    { rule: "!self.contains('#')", message: "must not contain a #fragment" },
  ],
};

const headers: JSONSchemaProps = {
  type: "object",
  description:
    "Extra HTTP headers sent with every delivery, such as X-Team: fulfillment. At most " +
    `${LIMITS.headers.max} headers; names are HTTP tokens of at most ${LIMITS.headers.nameLength} characters, ` +
    `compared case-insensitively; values are at most ${LIMITS.headers.valueLength} characters without line ` +
    `breaks. Reserved, and rejected: ${RESERVED_HEADERS.join(", ")}. Credentials belong in a Secret: use auth ` +
    "instead of an Authorization header.",
  maxProperties: LIMITS.headers.max,
  additionalProperties: {
    type: "string",
    description: `A header value: at most ${LIMITS.headers.valueLength} characters, no line breaks or other control characters.`,
    maxLength: LIMITS.headers.valueLength,
    pattern: HEADER_VALUE_REGEX,
  },
  "x-kubernetes-validations": [
    {
      rule: `self.all(k, size(k) <= ${LIMITS.headers.nameLength} && k.matches(r"${HEADER_NAME_REGEX}"))`,
      message: `header names must be HTTP tokens (letters, digits and !#$%&'*+-.^_\`|~) of at most ${LIMITS.headers.nameLength} characters`,
    },
    {
      rule: `self.all(k, !(k.lowerAscii() in ${celList(RESERVED_HEADERS)}))`,
      message: `reserved header names cannot be set: ${RESERVED_HEADERS.join(", ")} (use spec.endpoint.auth for credentials)`,
    },
    {
      rule: "self.all(k, self.filter(j, j.lowerAscii() == k.lowerAscii()).size() == 1)",
      message: "header names are case-insensitive: the same name must not appear twice",
    },
  ],
};

const auth: JSONSchemaProps = {
  type: "object",
  description:
    "How hookstream authenticates to the receiver, with credentials from a Secret: exactly one of bearer or " +
    "basic. Omit it for no authentication (the signature still proves the sender).",
  properties: {
    bearer: {
      type: "object",
      description: 'Send "Authorization: Bearer <token>" with the token from a Secret.',
      required: ["secretRef"],
      properties: {
        secretRef: secretKeyRef("that holds the bearer token", "the token", DEFAULT_BEARER_TOKEN_KEY),
      },
    },
    basic: {
      type: "object",
      description: "Send HTTP Basic authentication with the username and password from a Secret.",
      required: ["secretRef"],
      properties: {
        secretRef: secretRef("that holds the basic-auth credentials", '"username" and "password"'),
      },
    },
  },
  "x-kubernetes-validations": [
    { rule: "has(self.bearer) != has(self.basic)", message: "set exactly one of bearer or basic" },
  ],
};

const tls: JSONSchemaProps = {
  type: "object",
  description:
    "TLS settings for an https:// endpoint: a private CA to trust and a client certificate for mutual TLS. " +
    "Omit it to verify the receiver against the usual public CAs.",
  properties: {
    caBundle: {
      type: "object",
      description: "PEM CA certificates to trust instead of the public CAs, for receivers with a private CA.",
      required: ["secretRef"],
      properties: {
        secretRef: secretKeyRef(
          "that holds the CA certificates",
          "the PEM CA certificates",
          DEFAULT_CA_BUNDLE_KEY,
        ),
      },
    },
    clientCertificate: {
      type: "object",
      description: "A client certificate and key to present to the receiver (mutual TLS).",
      required: ["secretRef"],
      properties: {
        secretRef: secretRef(
          "of type kubernetes.io/tls that holds the client certificate and its key",
          '"tls.crt" and "tls.key"',
        ),
      },
    },
  },
};

const endpoint: JSONSchemaProps = {
  type: "object",
  description: "The receiver every matching event is POSTed to, and how to connect to it.",
  required: ["url"],
  properties: {
    url,
    timeout: durationField(
      `How long one delivery attempt waits for the response headers, and at most between two parts of the response body, as a duration ` +
        `such as 15s or 1m30s. An attempt that takes longer fails and is retried. Default: ${DEFAULT_TIMEOUT}; ` +
        `between ${LIMITS.timeout.min} and ${LIMITS.timeout.max}.`,
      LIMITS.timeout,
      DEFAULT_TIMEOUT,
    ),
    headers,
    auth,
    tls,
  },
  "x-kubernetes-validations": [
    {
      rule: "!has(self.tls) || !isURL(self.url) || url(self.url).getScheme() == 'https'",
      fieldPath: ".tls",
      message: "tls applies only to an https:// url",
    },
  ],
};

const signing: JSONSchemaProps = {
  type: "object",
  description:
    "Signs every delivery the Standard Webhooks way (webhook-id, webhook-timestamp and webhook-signature " +
    "headers), so the receiver can check that it came from hookstream and was not altered. Omit it to send " +
    "unsigned deliveries. To rotate the secret without downtime, point secretRef at the new secret and " +
    "previousSecretRef at the old one until previousValidUntil: meanwhile every delivery carries both signatures.",
  required: ["secretRef"],
  properties: {
    secretRef: secretKeyRef(
      "that holds the signing secret",
      'the signing secret, "whsec_" followed by base64',
      DEFAULT_SIGNING_SECRET_KEY,
    ),
    previousSecretRef: secretKeyRef(
      "that holds the previous signing secret, still used during a rotation",
      'the previous signing secret, "whsec_" followed by base64',
      DEFAULT_SIGNING_SECRET_KEY,
    ),
    previousValidUntil: timestamp(
      "Until when (RFC 3339, such as 2025-06-01T00:00:00Z) deliveries are also signed with previousSecretRef. " +
        "Required together with previousSecretRef.",
    ),
  },
  "x-kubernetes-validations": [
    {
      rule: "!has(self.previousSecretRef) || has(self.previousValidUntil)",
      fieldPath: ".previousValidUntil",
      reason: "FieldValueRequired",
      message: "previousValidUntil is required with previousSecretRef: it says when the rotation ends",
    },
    {
      rule: "!has(self.previousValidUntil) || has(self.previousSecretRef)",
      fieldPath: ".previousSecretRef",
      reason: "FieldValueRequired",
      message: "previousSecretRef is required with previousValidUntil",
    },
  ],
};

const retry: JSONSchemaProps = {
  type: "object",
  description:
    "When to retry a delivery attempt that failed (a connection error, a timeout, or a response that is not " +
    "2xx). When the schedule is used up, the event is dead-lettered (see deadLetterSubject).",
  default: {},
  properties: {
    schedule: {
      type: "array",
      description:
        "How long to wait before each retry: the first entry before the first retry, and so on; the number of " +
        "entries is the number of retries. Each is a duration such as 5s, 30m or 2h, between " +
        `${LIMITS.retryDelay.min} and ${LIMITS.retryDelay.max}; at most ${LIMITS.retrySchedule.max} entries; ` +
        `an empty list means no retries. Default: ${DEFAULT_RETRY_SCHEDULE.join(", ")} (about ${DEFAULT_RETRY_HOURS} hours in all).`,
      default: [...DEFAULT_RETRY_SCHEDULE],
      minItems: LIMITS.retrySchedule.min,
      maxItems: LIMITS.retrySchedule.max,
      items: durationField(
        `A wait before one retry, between ${LIMITS.retryDelay.min} and ${LIMITS.retryDelay.max}.`,
        LIMITS.retryDelay,
      ),
    },
    jitter: {
      type: "number",
      description:
        "Random spread applied to each wait, as a fraction of it: 0.2 makes a 10m wait anything from 8m to 12m, " +
        `so that retries of many events do not arrive at once. Default: ${DEFAULT_JITTER}; between ` +
        `${LIMITS.jitter.min} and ${LIMITS.jitter.max}.`,
      default: DEFAULT_JITTER,
      minimum: LIMITS.jitter.min,
      maximum: LIMITS.jitter.max,
    },
  },
};

const delivery: JSONSchemaProps = {
  type: "object",
  description:
    "How hard hookstream pushes the receiver: retries, concurrency, rate limit, circuit breaker and where " +
    "undeliverable events go. Every field has a default.",
  default: {},
  properties: {
    retry,
    maxInFlight: {
      type: "integer",
      format: "int32",
      description:
        "Most deliveries to this endpoint under way at once. Default: " +
        `${DEFAULT_MAX_IN_FLIGHT}; between ${LIMITS.maxInFlight.min} and ${LIMITS.maxInFlight.max}. ` +
        "Set 1 to deliver strictly one at a time.",
      default: DEFAULT_MAX_IN_FLIGHT,
      minimum: LIMITS.maxInFlight.min,
      maximum: LIMITS.maxInFlight.max,
    },
    rateLimit: {
      type: "object",
      description: "Caps how many deliveries start per second (a token bucket). Omit it for no rate limit.",
      required: ["perSecond"],
      properties: {
        perSecond: {
          type: "number",
          description: `Deliveries started per second on average, such as 50 or 0.5; more than 0, at most ${LIMITS.perSecond.max}.`,
          minimum: 0,
          exclusiveMinimum: true,
          maximum: LIMITS.perSecond.max,
        },
        burst: {
          type: "integer",
          format: "int32",
          description:
            "Deliveries that may start at once after a quiet period. Default: perSecond rounded up; " +
            `between ${LIMITS.burst.min} and ${LIMITS.burst.max}.`,
          minimum: LIMITS.burst.min,
          maximum: LIMITS.burst.max,
        },
      },
    },
    circuitBreaker: {
      type: "object",
      description:
        "Stops sending to an endpoint that keeps failing (endpointState CircuitOpen) and tries one delivery " +
        "every probeInterval until one succeeds. Events wait meanwhile; they are not dropped.",
      default: {},
      properties: {
        failureThreshold: {
          type: "integer",
          format: "int32",
          description:
            "Consecutive failed attempts that open the circuit. Default: " +
            `${DEFAULT_FAILURE_THRESHOLD}; between ${LIMITS.failureThreshold.min} and ${LIMITS.failureThreshold.max}.`,
          default: DEFAULT_FAILURE_THRESHOLD,
          minimum: LIMITS.failureThreshold.min,
          maximum: LIMITS.failureThreshold.max,
        },
        probeInterval: durationField(
          "While the circuit is open, how often one probe delivery is tried, as a duration such as 30s or 5m. " +
            `Default: ${DEFAULT_PROBE_INTERVAL}; between ${LIMITS.probeInterval.min} and ${LIMITS.probeInterval.max}.`,
          LIMITS.probeInterval,
          DEFAULT_PROBE_INTERVAL,
        ),
      },
    },
    deadLetterSubject: {
      type: "string",
      description:
        "NATS subject (no wildcards) that an event is published on, with the reason, when it cannot be " +
        "delivered, for example when its retries are used up. Omit it to drop such events (they are still " +
        `counted in status.deliveries.deadLettered). At most ${LIMITS.subjectLength} characters.`,
      minLength: 1,
      maxLength: LIMITS.subjectLength,
      "x-kubernetes-validations": [
        {
          rule: `self.matches(r'${PLAIN_SUBJECT_REGEX}')`,
          message:
            'must be a NATS subject without wildcards: non-empty tokens separated by ".", no whitespace, no "*" or ">"',
        },
      ],
    },
  },
};

const spec: JSONSchemaProps = {
  type: "object",
  description: "What to deliver (subjects, filter), where (endpoint), and how (signing, delivery).",
  required: ["subjects", "endpoint"],
  properties: {
    subjects,
    filter,
    endpoint,
    signing,
    delivery,
    paused: {
      type: "boolean",
      description:
        "Stops deliveries while true; events that arrive meanwhile wait (within the stream's retention) and are " +
        `delivered after resuming. Default: ${DEFAULT_PAUSED}.`,
      default: DEFAULT_PAUSED,
    },
  },
};

// ---------------------------------------------------------------------------------------------
// status

const conditions: JSONSchemaProps = {
  type: "array",
  description:
    'Standard conditions. "Ready" is True while the subscription is routed and its endpoint accepts ' +
    "deliveries; its reason and message say why not otherwise.",
  maxItems: 32,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
  items: {
    type: "object",
    description: "One aspect of the subscription's state (metav1.Condition).",
    required: ["type", "status", "lastTransitionTime", "reason", "message"],
    properties: {
      type: {
        type: "string",
        description: 'The aspect this condition is about, in CamelCase, such as "Ready".',
        maxLength: 316,
        pattern: CONDITION_TYPE_REGEX,
      },
      status: {
        type: "string",
        description: "True, False or Unknown.",
        enum: ["True", "False", "Unknown"],
      },
      observedGeneration: {
        type: "integer",
        format: "int64",
        minimum: 0,
        description: "The metadata.generation the condition was set for.",
      },
      lastTransitionTime: timestamp("When the status last changed."),
      reason: {
        type: "string",
        description:
          "A CamelCase word for why the condition is as it is, such as Delivering or EndpointFailing.",
        minLength: 1,
        maxLength: 1024,
        pattern: CONDITION_REASON_REGEX,
      },
      message: {
        type: "string",
        description: "A human-readable explanation; may be empty.",
        maxLength: 32768,
      },
    },
  },
};

const status: JSONSchemaProps = {
  type: "object",
  description: "What the operator observed. Written by hookstream, at a bounded rate, never by users.",
  properties: {
    observedGeneration: {
      type: "integer",
      format: "int64",
      minimum: 0,
      description: "The metadata.generation of the spec this status describes.",
    },
    conditions,
    endpointState: {
      type: "string",
      description:
        "Health of the endpoint: Active (delivering), Backoff (retrying after failures), CircuitOpen (stopped " +
        "after repeated failures, probing), Disabled (not delivering; the Ready condition says why) or Paused " +
        "(spec.paused).",
      enum: [...ENDPOINT_STATES],
    },
    deliveries: {
      type: "object",
      description: "Delivery counts, as the operator has counted them.",
      properties: {
        succeeded: counter("Events the endpoint accepted (a 2xx response)."),
        failed: counter("Attempts that failed (each failed attempt counts, including retried ones)."),
        retrying: counter("Events currently waiting for a retry."),
        deadLettered: counter("Events given up on (published on deadLetterSubject if set)."),
      },
    },
    lastAttempt: {
      type: "object",
      description: "The most recent delivery attempt.",
      properties: {
        time: timestamp("When the attempt started."),
        eventId: {
          type: "string",
          description: "The event's webhook-id.",
          maxLength: 256,
        },
        statusCode: {
          type: "integer",
          format: "int32",
          description: "The HTTP status code of the response; absent when no response arrived.",
          minimum: 100,
          maximum: 599,
        },
        durationMs: {
          type: "integer",
          format: "int64",
          minimum: 0,
          description: "How long the attempt took, in milliseconds.",
        },
        error: {
          type: "string",
          description: "Why the attempt failed; absent when it succeeded.",
          maxLength: 1024,
        },
      },
    },
    lastSuccessTime: timestamp("When a delivery last succeeded."),
    routes: {
      type: "integer",
      format: "int32",
      minimum: 0,
      description: "How many of spec.subjects are currently routed to this subscription.",
    },
  },
};

/** The openAPIV3Schema of WebhookSubscription v1alpha1. */
export const webhookSubscriptionSchema: JSONSchemaProps = {
  type: "object",
  description:
    "A WebhookSubscription delivers the events that services publish on NATS JetStream subjects to an HTTP " +
    "endpoint, as signed webhooks (Standard Webhooks), with retries, rate limits and a circuit breaker.",
  required: ["spec"],
  properties: {
    apiVersion: {
      type: "string",
      description: `The versioned schema of this object: ${GROUP}/${VERSION}.`,
    },
    kind: { type: "string", description: `The kind of this object: ${KIND}.` },
    metadata: { type: "object" },
    spec,
    status,
  },
};

export const printerColumns: PrinterColumn[] = [
  {
    name: "Ready",
    type: "string",
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: "Whether the subscription is routed and delivering.",
  },
  {
    name: "Reason",
    type: "string",
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    description: "Why it is (not) ready.",
  },
  {
    name: "Endpoint",
    type: "string",
    jsonPath: ".status.endpointState",
    description: "Health of the endpoint.",
  },
  {
    name: "Succeeded",
    type: "integer",
    jsonPath: ".status.deliveries.succeeded",
    description: "Successful deliveries.",
  },
  {
    name: "Failed",
    type: "integer",
    jsonPath: ".status.deliveries.failed",
    description: "Failed delivery attempts.",
  },
  {
    name: "Last Code",
    type: "integer",
    jsonPath: ".status.lastAttempt.statusCode",
    description: "HTTP status code of the last attempt.",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/** The CustomResourceDefinition that hack/gen-crd.ts writes to crds/ and the chart. */
export const webhookSubscriptionCrd: CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    names: {
      kind: KIND,
      listKind: LIST_KIND,
      plural: PLURAL,
      singular: SINGULAR,
      shortNames: [SHORT_NAME],
      categories: [CATEGORY],
    },
    scope: "Namespaced",
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: printerColumns,
        schema: { openAPIV3Schema: webhookSubscriptionSchema },
      },
    ],
  },
};
