/**
 * Standard Webhooks secrets: `whsec_` followed by the key in standard, padded base64.
 *
 * Errors end up in a WebhookSubscription's status, which anyone allowed to read the
 * resource can see, so no error message ever quotes the secret or any part of it:
 * messages name only the rule that was broken, lengths and offsets.
 */
import { randomBytes } from "node:crypto";

export const SECRET_PREFIX = "whsec_";

/**
 * Standard Webhooks recommends keys of 24 to 64 bytes. Shorter keys weaken the HMAC;
 * longer ones gain nothing (HMAC-SHA256 hashes keys above its 64-byte block down to 32
 * bytes) and are usually a sign that the wrong value was pasted. Both bounds inclusive.
 */
export const MIN_KEY_BYTES = 24;
export const MAX_KEY_BYTES = 64;

/** Bytes of key that generateSecret draws: the size the Standard Webhooks libraries use. */
export const GENERATED_KEY_BYTES = 32;

export type ParsedSecret = { ok: true; key: Buffer } | { ok: false; error: string };

const BASE64_CHAR = /[A-Za-z0-9+/]/;
// Enough for a 64-byte key; anything longer is rejected before decoding.
const MAX_BASE64_CHARS = 4 * Math.ceil(MAX_KEY_BYTES / 3);

/**
 * Parses `whsec_<base64>` into the HMAC key.
 *
 * Only canonical, padded standard base64 is accepted. Receivers decode the same secret with
 * their own Standard Webhooks library, and those disagree on lenient inputs (missing padding,
 * URL-safe characters, stray bits); a secret that every library decodes to the same key is
 * the only kind that is safe to sign with.
 *
 * Leading and trailing whitespace is ignored: Secrets created with `echo` carry a newline,
 * and base64 never contains whitespace, so trimming cannot change which key is meant.
 */
export function parseSecret(text: string): ParsedSecret {
  const trimmed = text.trim();
  if (trimmed === "") return fail("signing secret is empty");
  if (!trimmed.startsWith(SECRET_PREFIX)) {
    return fail(`signing secret does not start with "${SECRET_PREFIX}"`);
  }
  const encoded = trimmed.slice(SECRET_PREFIX.length);
  if (encoded === "") return fail(`signing secret has nothing after "${SECRET_PREFIX}"`);
  if (encoded.length > MAX_BASE64_CHARS) {
    return fail(`signing secret is too long: at most ${MAX_KEY_BYTES} bytes of key are allowed`);
  }
  const base64Error = checkBase64(encoded);
  if (base64Error !== undefined) return fail(`signing secret is not valid base64: ${base64Error}`);

  const key = Buffer.from(encoded, "base64");
  // Node ignores non-zero bits in the last character; other decoders reject them.
  if (key.toString("base64") !== encoded) {
    return fail("signing secret is not valid base64: the last character before the padding has stray bits");
  }
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    return fail(
      `signing secret key is ${key.length} bytes; Standard Webhooks keys must be ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes`,
    );
  }
  return { ok: true, key };
}

/** A fresh random secret, for examples and tests. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(GENERATED_KEY_BYTES).toString("base64");
}

function fail(error: string): ParsedSecret {
  return { ok: false, error };
}

/** Describes the first base64 problem by position only, never by the offending character. */
function checkBase64(encoded: string): string | undefined {
  const padStart = encoded.length - (encoded.endsWith("==") ? 2 : encoded.endsWith("=") ? 1 : 0);
  for (let i = 0; i < padStart; i++) {
    const ch = encoded[i] ?? "";
    if (BASE64_CHAR.test(ch)) continue;
    if (ch === "-" || ch === "_") {
      return "it uses the URL-safe alphabet ('-' or '_'); use standard base64 ('+' and '/')";
    }
    if (ch === "=") return `padding '=' at offset ${i} before the end`;
    return `character at offset ${i} after "${SECRET_PREFIX}" is outside the base64 alphabet`;
  }
  if (encoded.length % 4 !== 0) {
    return `length ${encoded.length} after "${SECRET_PREFIX}" is not a multiple of 4 (missing '=' padding?)`;
  }
  return undefined;
}
