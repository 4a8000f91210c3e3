/** Signs deliveries the Standard Webhooks v1 way. */
import { hmacBase64, SIGNATURE_VERSION, signedPrefix } from "./hmac.js";
import { isValidWebhookId } from "./webhook-id.js";

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` for each key, space separated, in
 * the order given (current key first during a rotation).
 *
 * Throws on an empty key list rather than returning an empty header: an unsigned request
 * must never leave for a subscription that asks for signing. Also throws on an id outside
 * `[A-Za-z0-9_-]{1,128}` (see webhookId) and on a timestamp that is not whole, non-negative
 * seconds, because receivers would read back a different number than the one signed.
 */
export function webhookSignature(
  keys: readonly Uint8Array[],
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): string {
  if (keys.length === 0) throw new RangeError("webhookSignature: no signing key");
  if (!isValidWebhookId(id)) {
    throw new RangeError(
      `webhookSignature: id ${JSON.stringify(id.slice(0, 140))} is not a valid webhook-id`,
    );
  }
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`webhookSignature: timestamp ${timestampSeconds} is not whole Unix seconds`);
  }
  const prefix = signedPrefix(id, String(timestampSeconds));
  let header = "";
  for (const key of keys) {
    if (header !== "") header += " ";
    header += `${SIGNATURE_VERSION},${hmacBase64(key, prefix, body)}`;
  }
  return header;
}

/** The three Standard Webhooks headers for one delivery attempt sent at `sentAt`. */
export function webhookHeaders(
  keys: readonly Uint8Array[],
  id: string,
  sentAt: Date,
  body: Uint8Array,
): WebhookHeaders {
  const timestampSeconds = Math.floor(sentAt.getTime() / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": webhookSignature(keys, id, timestampSeconds, body),
  };
}
