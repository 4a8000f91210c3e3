/** Verifies Standard Webhooks v1 deliveries: for the examples' receiver and our own tests. */
import { timingSafeEqual } from "node:crypto";
import { hmacBase64, SIGNATURE_VERSION, signedPrefix } from "./hmac.js";

export type VerifyResult = { ok: true } | { ok: false; error: string };

/** Standard Webhooks' default: how far the timestamp may be from the receiver's clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

// Digits only: the signed text is the header as received, and parseInt-style leniency
// ("12abc", " 12") would let the checked time and the signed time disagree.
const TIMESTAMP = /^[0-9]{1,15}$/;

/**
 * Accepts when any `v1,` signature in `webhook-signature` matches any of `keys` and the
 * timestamp is within `toleranceSeconds` of `now`. Signatures with other version prefixes
 * (`v1a,`, `v2,`) are skipped, as the spec asks, so senders can add schemes without breaking
 * receivers. Header names are matched case-insensitively, as HTTP requires; `body` must be
 * the raw bytes received.
 */
export function verifyWebhook(
  keys: readonly Buffer[],
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  body: Uint8Array,
  now: Date,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  if (keys.length === 0) return fail("no verification key configured");
  const found = readHeaders(headers);
  if (!found.ok) return found;
  const { id, timestamp, signature } = found;

  if (!TIMESTAMP.test(timestamp)) return fail("webhook-timestamp is not Unix time in whole seconds");
  const skew = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (skew > toleranceSeconds) {
    return fail(`webhook-timestamp is ${skew} s in the past, beyond the ${toleranceSeconds} s tolerance`);
  }
  if (-skew > toleranceSeconds) {
    return fail(`webhook-timestamp is ${-skew} s in the future, beyond the ${toleranceSeconds} s tolerance`);
  }

  const received = signature
    .split(" ")
    .filter((entry) => entry.startsWith(`${SIGNATURE_VERSION},`))
    .map((entry) => Buffer.from(entry.slice(SIGNATURE_VERSION.length + 1), "utf8"));
  if (received.length === 0) return fail(`webhook-signature has no ${SIGNATURE_VERSION} signature`);

  const prefix = signedPrefix(id, timestamp);
  for (const key of keys) {
    const expected = Buffer.from(hmacBase64(key, prefix, body), "utf8");
    for (const candidate of received) {
      // The length is public (always 44 for v1), so only the contents need constant time.
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return { ok: true };
    }
  }
  return fail("no signature in webhook-signature matches");
}

type FoundHeaders =
  { ok: true; id: string; timestamp: string; signature: string } | { ok: false; error: string };

function readHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): FoundHeaders {
  const wanted = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== "webhook-id" && lower !== "webhook-timestamp" && lower !== "webhook-signature") continue;
    const values = typeof value === "string" ? [value] : (value ?? []);
    if (values.length === 0) continue;
    // Two values (repeated header, or the same name in two cases) leave it unclear which was signed.
    if (values.length > 1 || wanted.has(lower)) return fail(`${lower} header appears more than once`);
    wanted.set(lower, values[0] ?? "");
  }
  const id = wanted.get("webhook-id");
  const timestamp = wanted.get("webhook-timestamp");
  const signature = wanted.get("webhook-signature");
  if (!id) return fail("missing webhook-id header");
  if (!timestamp) return fail("missing webhook-timestamp header");
  if (!signature) return fail("missing webhook-signature header");
  return { ok: true, id, timestamp, signature };
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
