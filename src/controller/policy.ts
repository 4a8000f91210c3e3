import { parse } from "yaml";

/**
 * The tenant policy: which subject patterns each namespace may subscribe to. Without a policy file
 * every namespace may subscribe to anything (documented default).
 *
 *   namespaces:
 *     shop: ["shop.>"]
 *     billing: ["billing.>", "shop.orders.*.paid"]
 *   default: []          # namespaces not listed: nothing (omit the key to allow everything)
 */
export interface SubjectPolicy {
  /** Patterns a subscription pattern must fall within, or undefined for "anything". */
  allowedFor(namespace: string): readonly string[] | undefined;
}

export const ALLOW_ALL: SubjectPolicy = { allowedFor: () => undefined };

export class PolicyError extends Error {
  override name = "PolicyError";
}

export function parsePolicy(text: string, source = "subject policy"): SubjectPolicy {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new PolicyError(`${source}: not YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new PolicyError(`${source}: expected a mapping with "namespaces" and optionally "default"`);
  }
  const { namespaces = {}, default: fallback, ...rest } = doc as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new PolicyError(`${source}: unknown key(s) ${unknown.join(", ")}`);
  const patterns = (value: unknown, where: string): string[] => {
    if (!Array.isArray(value) || value.some((p) => typeof p !== "string")) {
      throw new PolicyError(`${source}: ${where} must be a list of subject patterns`);
    }
    for (const p of value as string[]) {
      const err = patternSyntaxError(p);
      if (err) throw new PolicyError(`${source}: ${where}: ${err}`);
    }
    return value as string[];
  };
  if (typeof namespaces !== "object" || namespaces === null || Array.isArray(namespaces)) {
    throw new PolicyError(`${source}: "namespaces" must map namespace names to pattern lists`);
  }
  const table = new Map<string, string[]>();
  for (const [ns, list] of Object.entries(namespaces as Record<string, unknown>)) {
    table.set(ns, patterns(list, `namespaces.${ns}`));
  }
  const def = fallback === undefined ? undefined : patterns(fallback, "default");
  return { allowedFor: (ns) => table.get(ns) ?? def };
}

function patternSyntaxError(p: string): string | undefined {
  const tokens = p.split(".");
  for (const [i, t] of tokens.entries()) {
    if (t === "") return `"${p}": token ${i + 1} is empty`;
    if (/\s/.test(t)) return `"${p}": token ${i + 1} contains whitespace`;
    if (t === ">" && i !== tokens.length - 1) return `"${p}": ">" may only be the last token`;
    if (t !== "*" && t !== ">" && /[*>]/.test(t)) return `"${p}": wildcards must be whole tokens`;
  }
  return undefined;
}

/** True when every subject that `pattern` matches is also matched by `allowed` (NATS wildcard semantics). */
export function patternCovers(allowed: string, pattern: string): boolean {
  const a = allowed.split(".");
  const p = pattern.split(".");
  for (let i = 0; i < a.length; i++) {
    const at = a[i];
    const pt = p[i];
    if (at === ">") return pt !== undefined;
    if (pt === undefined || pt === ">") return false;
    if (at === "*") continue;
    if (pt === "*" || pt !== at) return false;
  }
  return a.length === p.length;
}

/** The patterns of a subscription that its namespace may not use (empty when all are allowed). */
export function disallowedPatterns(
  policy: SubjectPolicy,
  namespace: string,
  patterns: readonly string[],
): string[] {
  const allowed = policy.allowedFor(namespace);
  if (allowed === undefined) return [];
  return patterns.filter((p) => !allowed.some((a) => patternCovers(a, p)));
}
