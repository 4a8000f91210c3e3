/**
 * What to do after one delivery attempt, and how long to wait before the next one.
 * Pure: the clock and the random source are parameters.
 */
import { ERR_DESTINATION_REFUSED } from "./ssrf.js";

export { ERR_DESTINATION_REFUSED };

/** How one attempt ended: an HTTP response arrived, or none did. */
export type DeliveryOutcome =
  | { kind: "response"; status: number; retryAfter?: string }
  | { kind: "error"; code?: string; message: string };

/**
 * success: delivered. retry: try again later (or dead-letter once the schedule is used up).
 * fail: give up on this event now; retrying cannot help. disable: the receiver said the
 * endpoint is gone for good (410), so stop delivering to it at all.
 */
export type Verdict = "success" | "retry" | "fail" | "disable";

/**
 * Error codes for which no request reached the receiver and sending the same request again
 * cannot succeed: the destination is forbidden, or the request itself is malformed. Every
 * other error (refused/reset connections, DNS failures, timeouts, TLS errors) may be transient.
 */
const PERMANENT_ERROR_CODES: ReadonlySet<string> = new Set([
  ERR_DESTINATION_REFUSED,
  "ERR_INVALID_URL",
  "UND_ERR_INVALID_ARG",
  "ERR_SIGNING",
]);

export function isPermanentError(code: string | undefined): boolean {
  return code !== undefined && PERMANENT_ERROR_CODES.has(code);
}

export function classify(outcome: DeliveryOutcome): Verdict {
  if (outcome.kind === "error") return isPermanentError(outcome.code) ? "fail" : "retry";
  const { status } = outcome;
  if (!Number.isInteger(status)) return "fail";
  if (status >= 200 && status <= 299) return "success";
  if (status === 410) return "disable";
  // 408 and 429 are the receiver saying "not now", not "never".
  if (status === 408 || status === 429) return "retry";
  if (status >= 500 && status <= 599) return "retry";
  // Other 4xx are the request's fault; 3xx are failures because redirects are not followed
  // (following one could lead the signed payload somewhere the subscription never named);
  // 1xx and codes outside 100..599 are not a sane final answer.
  return "fail";
}

/** The longest wait a receiver's Retry-After can impose: longer ones would stall the event for hours. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
/** The shortest wait a Retry-After can ask for: "Retry-After: 0" must not turn into a tight loop. */
export const MIN_RETRY_AFTER_MS = 1000;

/**
 * The wait before retry number `attempt` (1 = the first retry, which waits scheduleMs[0]), or
 * undefined when the schedule is used up and the event goes to the dead letter.
 *
 * The scheduled wait is spread uniformly over ×[1 - jitter, 1 + jitter] so that events that failed
 * together do not retry together. A Retry-After from the receiver can lengthen the wait (never
 * shorten it), clamped to [MIN_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS]; it is not jittered, because
 * the receiver named the time itself. It does not extend the schedule past its end.
 *
 * `random` returns a number in [0, 1), like Math.random.
 */
export function retryDelayMs(
  attempt: number,
  scheduleMs: readonly number[],
  jitter: number,
  random: () => number,
  retryAfterMs?: number,
): number | undefined {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`retry attempt must be an integer of at least 1, got ${attempt}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be between 0 and 1, got ${jitter}`);
  const scheduled = scheduleMs[attempt - 1];
  if (scheduled === undefined) return undefined;
  if (!(Number.isFinite(scheduled) && scheduled >= 0)) {
    throw new RangeError(`retry schedule entries must be finite and not negative, got ${scheduled}`);
  }

  const jittered = spread(scheduled, jitter, random());
  if (retryAfterMs === undefined || Number.isNaN(retryAfterMs)) return jittered;
  const asked = Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, retryAfterMs));
  return Math.max(jittered, asked);
}

/** `delay` × [1 - jitter, 1 + jitter], as a whole number of milliseconds when one fits the range. */
function spread(delay: number, jitter: number, r: number): number {
  const low = delay * (1 - jitter);
  const high = delay * (1 + jitter);
  // Clamp: a random source outside [0, 1) must not push the wait out of the promised range.
  const exact = Math.min(high, Math.max(low, delay * (1 + jitter * (2 * r - 1))));
  const lowMs = Math.ceil(low);
  const highMs = Math.floor(high);
  return lowMs <= highMs ? Math.min(highMs, Math.max(lowMs, Math.round(exact))) : exact;
}

const DAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = `(${MONTHS.join("|")})`;
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// RFC 9110 §5.6.7: recipients must accept all three formats; only the first may be sent.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);
const DELTA_SECONDS = /^-?\d+$/;

/**
 * A Retry-After header value (RFC 9110 §10.2.3) as milliseconds from `now`: delta-seconds or an
 * HTTP-date. Undefined when it is neither; 0 when it is negative or in the past.
 *
 * Date.parse is not used: V8 accepts almost anything ("soon 2" is a date in 2001), and a garbage
 * header must be ignored, not read as "retry now".
 */
export function parseRetryAfter(value: string, now: Date): number | undefined {
  const text = value.trim();
  if (DELTA_SECONDS.test(text)) return Math.max(0, Number(text) * 1000);
  const at = parseHttpDate(text, now);
  if (at === undefined) return undefined;
  return Math.max(0, at - now.getTime());
}

/** An HTTP-date in any of the three RFC 9110 formats, as epoch milliseconds. */
export function parseHttpDate(text: string, now: Date): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(Number(m[4]), m[3]!, Number(m[2]), m[5]!, m[6]!, m[7]!);
  m = ASCTIME_DATE.exec(text);
  if (m) return utc(Number(m[7]), m[2]!, Number(m[3]!.trim()), m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(text);
  if (m) return utc(fullYear(Number(m[4]), now), m[3]!, Number(m[2]), m[5]!, m[6]!, m[7]!);
  return undefined;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that looks more than 50 years in the future means the most
 * recent past year with the same last two digits.
 */
function fullYear(twoDigits: number, now: Date): number {
  const thisYear = now.getUTCFullYear();
  let year = thisYear - (thisYear % 100) + twoDigits;
  if (year > thisYear + 50) year -= 100;
  return year;
}

function utc(
  year: number,
  monthName: string,
  day: number,
  hh: string,
  mm: string,
  ss: string,
): number | undefined {
  const month = MONTHS.indexOf(monthName);
  const [hour, minute, second] = [Number(hh), Number(mm), Number(ss)];
  // 60 is a leap second, which the grammar allows; it counts as the first second of the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  // setUTCFullYear, not Date.UTC, which reads years 0..99 as 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  // 31 Feb would roll into March; such a date is malformed, not a day in March.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month) return undefined;
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000;
}
