/**
 * The one place that computes a Standard Webhooks v1 signature, shared by the signer and the
 * verifier so that both always agree on what is signed.
 */
import { createHmac } from "node:crypto";

export const SIGNATURE_VERSION = "v1";

/**
 * The part of the signed content that precedes the body: `<id>.<timestamp>.`.
 * Encoded once per delivery attempt and fed to every key's HMAC, so a rotation does not
 * re-encode it, and the body is never copied into a concatenated buffer.
 */
export function signedPrefix(id: string, timestamp: string): Buffer {
  return Buffer.from(`${id}.${timestamp}.`, "utf8");
}

/** Base64 of HMAC-SHA256 over prefix then body, exactly the bytes given. */
export function hmacBase64(key: Uint8Array, prefix: Buffer, body: Uint8Array): string {
  return createHmac("sha256", key).update(prefix).update(body).digest("base64");
}
