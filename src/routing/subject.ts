/**
 * NATS subjects and subscription patterns, by the rules nats-server applies.
 *
 * A subject (what is published) is `.`-separated tokens, none empty, none containing whitespace
 * or the wildcard characters. A pattern (what is subscribed) may also use `*` as a whole token
 * (exactly one token) and `>` as the whole last token (one or more trailing tokens).
 */

/**
 * Longest subject or pattern accepted, in UTF-16 code units (characters, for the ASCII subjects
 * NATS recommends). nats-server has no hard subject limit of its own short of its 4 KiB control
 * line, but NATS guidance is to keep subjects short, and a cap keeps a mistyped manifest from
 * putting pathological keys into the routing index and the metrics labels.
 */
export const MAX_SUBJECT_LENGTH = 255;

/** Whitespace (any Unicode) and control characters: nats-server splits protocol lines on them. */
const FORBIDDEN_CHAR = /[\s\p{Cc}]/u;

type Kind = "subject" | "pattern";

/** Returns why `subject` is not a valid NATS subject to publish on, or undefined when it is. */
export function validateSubject(subject: string): string | undefined {
  return validate(subject, "subject");
}

/** Returns why `pattern` is not a valid NATS subscription pattern, or undefined when it is. */
export function validatePattern(pattern: string): string | undefined {
  return validate(pattern, "pattern");
}

function validate(text: string, kind: Kind): string | undefined {
  // Callers may hand us anything decoded from YAML; the contract is "never throw".
  if (typeof text !== "string") return `${kind} must be a string`;
  if (text.length === 0) return `${kind} is empty`;
  if (text.length > MAX_SUBJECT_LENGTH) {
    return `${kind} is ${text.length} characters long; the limit is ${MAX_SUBJECT_LENGTH}`;
  }
  const quoted = JSON.stringify(text);
  const tokens = text.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const error = validateToken(tokens[i] ?? "", i, tokens.length, kind);
    if (error !== undefined) return `token ${i + 1} ${error} in ${quoted}`;
  }
  return undefined;
}

function validateToken(token: string, index: number, count: number, kind: Kind): string | undefined {
  if (token.length === 0) return "is empty";
  const bad = FORBIDDEN_CHAR.exec(token);
  if (bad !== null) return `contains ${describeChar(bad[0])}`;
  if (kind === "subject") {
    if (token.includes("*") || token.includes(">")) {
      return `contains a wildcard ("*" or ">"); only subscription patterns may use wildcards`;
    }
    return undefined;
  }
  if (token === "*") return undefined;
  if (token === ">")
    return index === count - 1 ? undefined : `is ">", which is only allowed as the last token`;
  if (token.includes("*")) return `contains "*"; a wildcard must be a whole token, like "a.*.c"`;
  if (token.includes(">")) return `contains ">"; a wildcard must be a whole token, like "a.b.>"`;
  return undefined;
}

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (char === " ") return "a space";
  if (char === "\t") return `a tab (${hex})`;
  if (char === "\n" || char === "\r") return `a line break (${hex})`;
  return /\s/u.test(char) ? `whitespace (${hex})` : `a control character (${hex})`;
}

/**
 * Whether `pattern` matches `subject` by NATS rules. Deliberately naive (split and compare): it is
 * the reference the fast SubjectIndex is tested against, not something to call per event.
 */
export function patternMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return p.length === s.length;
}
