/**
 * The `webhook-id` of an event: the same on every retry so that receivers can deduplicate,
 * and different for different events so that they never drop one by mistake.
 *
 * Scheme (every output matches `[A-Za-z0-9_-]{1,128}`, so never contains `.`):
 * - A `Nats-Msg-Id` that is already safe (`[A-Za-z0-9_-]`, at most 128 characters) and does
 *   not start with one of our reserved prefixes `msg_` or `evt_` is used unchanged, so the id
 *   a publisher chose (a UUID, a ULID, `order-123`) is what the receiver sees.
 * - Any other `Nats-Msg-Id` becomes `msg_<escaped>`: ASCII letters, digits and `_` stay, and
 *   every other byte of its UTF-8 form becomes `-` and two lowercase hex digits, so
 *   `order.123` becomes `msg_order-2e123`. The escaping is reversible, hence no two ids meet.
 * - Without a `Nats-Msg-Id`, the id is `evt_<escaped stream>_<stream sequence>`: a stream
 *   sequence is never reused within a stream, and the digits after the last `_` keep the
 *   stream part unambiguous.
 * - When an escaped form would exceed 128 characters (headers should stay small), the escaped
 *   text is cut and followed by `--` and the base64url SHA-256 of the whole original. Escaped
 *   text never contains `--`, so shortened ids cannot meet unshortened ones, and two shortened
 *   ids only meet on a SHA-256 collision.
 * The three forms differ by prefix, so none can produce another's id.
 */
import { createHash } from "node:crypto";

export const MAX_WEBHOOK_ID_LENGTH = 128;

/** What identifies an event delivered from JetStream. */
export interface EventRef {
  /** The publisher's `Nats-Msg-Id` header; an empty value counts as absent. */
  msgId?: string | undefined;
  /** The JetStream stream the event was read from. */
  stream: string;
  /** The event's sequence in that stream (starts at 1). */
  seq: number | bigint;
}

const SAFE_ID = /^[A-Za-z0-9_-]+$/;
const VALID_ID = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_WEBHOOK_ID_LENGTH}}$`);
const MSG_PREFIX = "msg_";
const EVT_PREFIX = "evt_";
const HASH_MARK = "--";
const HASH_CHARS = 43; // base64url of 32 bytes, unpadded
const HEX = "0123456789abcdef";

/** Whether an id is one that webhookId can produce and the signer accepts. */
export function isValidWebhookId(id: string): boolean {
  return VALID_ID.test(id);
}

export function webhookId(ref: EventRef): string {
  const { msgId } = ref;
  if (msgId !== undefined && msgId !== "") {
    if (
      msgId.length <= MAX_WEBHOOK_ID_LENGTH &&
      SAFE_ID.test(msgId) &&
      !msgId.startsWith(MSG_PREFIX) &&
      !msgId.startsWith(EVT_PREFIX)
    ) {
      return msgId;
    }
    return escapedWithin(MSG_PREFIX, msgId, "");
  }
  if (ref.stream === "") throw new RangeError("webhookId: stream name is empty");
  return escapedWithin(EVT_PREFIX, ref.stream, `_${sequenceText(ref.seq)}`);
}

// JetStream sequences are unsigned 64-bit; the bound also keeps the suffix short enough
// that a shortened stream name always leaves room for some readable text.
const MAX_SEQ = 2n ** 64n - 1n;

function sequenceText(seq: number | bigint): string {
  const valid = typeof seq === "bigint" ? seq >= 1n && seq <= MAX_SEQ : Number.isSafeInteger(seq) && seq >= 1;
  if (!valid)
    throw new RangeError(`webhookId: stream sequence must be a positive 64-bit integer, got ${seq}`);
  return seq.toString();
}

/** `prefix + escape(raw) + suffix`, shortened with a hash of `raw` when it would be too long. */
function escapedWithin(prefix: string, raw: string, suffix: string): string {
  const full = escape(raw, Number.POSITIVE_INFINITY);
  if (prefix.length + full.length + suffix.length <= MAX_WEBHOOK_ID_LENGTH) return prefix + full + suffix;
  const budget = MAX_WEBHOOK_ID_LENGTH - prefix.length - HASH_MARK.length - HASH_CHARS - suffix.length;
  const digest = createHash("sha256")
    .update(Buffer.from(utf8Bytes(raw)))
    .digest("base64url");
  return prefix + escape(raw, budget) + HASH_MARK + digest + suffix;
}

/**
 * Escapes whole characters until `budget` output characters are used, so a shortened head
 * never ends in half an escape (and therefore never in `-`, which keeps `--` unambiguous).
 */
function escape(raw: string, budget: number): string {
  let out = "";
  for (const cp of codePoints(raw)) {
    let piece = "";
    if (isLiteral(cp)) {
      piece = String.fromCharCode(cp);
    } else {
      for (const byte of utf8OfCodePoint(cp)) piece += "-" + HEX[byte >> 4] + HEX[byte & 15];
    }
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return out;
}

function isLiteral(cp: number): boolean {
  return (
    (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f
  );
}

/**
 * Code points, with an unpaired surrogate kept as its own value rather than replaced by
 * U+FFFD: replacing would map different ids to the same bytes.
 */
function* codePoints(text: string): Generator<number> {
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i) ?? 0;
    if (cp > 0xffff) i++;
    yield cp;
  }
}

function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (const cp of codePoints(text)) bytes.push(...utf8OfCodePoint(cp));
  return bytes;
}

/** UTF-8, extended to lone surrogates the way WTF-8 does, so every string encodes uniquely. */
function utf8OfCodePoint(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}
