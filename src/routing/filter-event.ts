import type { CelInput } from "@bufbuild/cel";

/** The event as a filter expression sees it. Treated as read-only by every filter. */
export interface FilterEvent {
  /** The NATS subject the event was published on. */
  readonly subject: string;
  /** The event id (the webhook-id of its deliveries). */
  readonly id: string;
  /** When the event was stored (the JetStream message timestamp). */
  readonly time: Date;
  /** Message headers, names lower-cased (see headersFromEntries); a plain object. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The payload parsed as JSON. Leave undefined when it was not parsed (no matched filter needs
   * it) or is not JSON; a filter that reads `data` then reports an error instead of matching.
   * JSON `null` is a valid payload and is passed through as CEL null.
   */
  readonly data?: unknown;
}

/** Names a filter expression can refer to; everything else is rejected at compile time. */
export const FILTER_VARIABLES = ["subject", "headers", "data", "id", "time"] as const;
export type FilterVariable = (typeof FILTER_VARIABLES)[number];

/**
 * Builds a FilterEvent header object from raw header pairs. Names are lower-cased because NATS
 * (like HTTP) treats them case-insensitively while CEL map keys are exact; repeated names are
 * joined with ", " as HTTP does, so `headers["x"]` is always one string.
 */
export function headersFromEntries(entries: Iterable<readonly [string, string]>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    // hasOwn, not `in`: a header called "constructor" must not find Object.prototype.
    headers[key] = Object.hasOwn(headers, key) ? `${headers[key]}, ${value}` : value;
  }
  return headers;
}

/**
 * The CEL value of one variable. Only the variables an expression references are converted, so
 * a subject-only filter never pays for headers, payload or timestamp.
 */
export function celValueOf(name: FilterVariable, event: FilterEvent): CelInput | undefined {
  switch (name) {
    case "subject":
      return event.subject;
    case "id":
      return event.id;
    case "headers":
      return event.headers;
    case "data":
      // JSON.parse yields only CEL-representable values (numbers become CEL double).
      return event.data as CelInput | undefined;
    case "time":
      return timestampOf(event.time);
  }
}

/**
 * A google.protobuf.Timestamp message, which @bufbuild/cel evaluates as a CEL timestamp. Built
 * as the plain object protobuf-es messages are (identified by `$typeName`) so that this package
 * needs no direct dependency on @bufbuild/protobuf.
 */
function timestampOf(time: Date): CelInput {
  const ms = time.getTime();
  if (!Number.isFinite(ms)) throw new Error("event time is not a valid date");
  const seconds = Math.floor(ms / 1000);
  const timestamp = {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(seconds),
    nanos: (ms - seconds * 1000) * 1_000_000,
  };
  return timestamp;
}
