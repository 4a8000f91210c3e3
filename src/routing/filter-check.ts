/**
 * Name checks on a parsed CEL expression, done once at compile time.
 *
 * @bufbuild/cel 0.6.1 has a type checker, but its package exports do not expose it, and its
 * planner only notices an unknown variable when evaluating ("unresolved attribute"). So a
 * misspelt `dat.total` would silently never match. This walk finds every free identifier and
 * every function name instead, so such filters are rejected when the subscription is applied.
 * Argument types are not checked: `subject > 1` still fails only at evaluation.
 */
import type { CelEnv, parse } from "@bufbuild/cel";

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr["expr"];
type SourceInfo = NonNullable<ParsedExpr["sourceInfo"]>;

/** Calls the planner evaluates itself rather than looking up in the function registry. */
const PLANNER_CALLS = new Set([
  "_[_]",
  "_[?_]",
  "_?._",
  "_?:_",
  "_&&_",
  "_||_",
  "@not_strictly_false",
  "__not_strictly_false__",
]);

/** Type names an expression may mention, e.g. `type(data.total) == double`. */
const TYPE_NAMES = new Set([
  "bool",
  "bytes",
  "double",
  "int",
  "list",
  "map",
  "null_type",
  "string",
  "type",
  "uint",
]);

export interface NameCheck {
  /** The declared variables the expression reads (comprehension variables excluded). */
  readonly variables: ReadonlySet<string>;
  /** The first problem found, located in the source, or undefined. */
  readonly error: string | undefined;
}

export function checkNames(
  source: string,
  parsed: ParsedExpr,
  env: CelEnv,
  declared: readonly string[],
): NameCheck {
  const variables = new Set<string>();
  const problems: string[] = [];
  const at = (expr: Expr): string => {
    const where = locate(source, parsed.sourceInfo, expr);
    return where === "" ? "" : ` ${where}`;
  };

  const walk = (expr: Expr | undefined, bound: ReadonlySet<string>): void => {
    if (expr === undefined) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case "identExpr":
        resolveName(kind.value.name, expr, bound);
        return;
      case "selectExpr": {
        // A message type name such as google.protobuf.Timestamp, unless its root is a variable.
        const qualified = qualifiedName(expr);
        if (qualified !== undefined && isTypeName(qualified, env, bound, declared)) return;
        walk(kind.value.operand, bound);
        return;
      }
      case "callExpr": {
        const { function: name, target, args } = kind.value;
        const qualified = target === undefined ? undefined : qualifiedName(target);
        if (qualified !== undefined && env.funcs.find(`${qualified}.${name}`) !== undefined) {
          // A namespaced function such as strings.quote(x): the target is not a value.
          for (const arg of args) walk(arg, bound);
          return;
        }
        if (name === "has") {
          problems.push(`has() needs a field selection, like has(data.customer),${at(expr)}`);
        } else if (!PLANNER_CALLS.has(name) && env.funcs.find(name) === undefined) {
          problems.push(`unknown function ${JSON.stringify(name)}${at(expr)}`);
        }
        walk(target, bound);
        for (const arg of args) walk(arg, bound);
        return;
      }
      case "listExpr":
        for (const element of kind.value.elements) walk(element, bound);
        return;
      case "structExpr":
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") walk(entry.keyKind.value, bound);
          walk(entry.value, bound);
        }
        return;
      case "comprehensionExpr": {
        const c = kind.value;
        walk(c.iterRange, bound);
        walk(c.accuInit, bound);
        const inner = new Set(bound);
        for (const name of [c.iterVar, c.iterVar2, c.accuVar]) if (name !== "") inner.add(name);
        walk(c.loopCondition, inner);
        walk(c.loopStep, inner);
        walk(c.result, inner);
        return;
      }
      default:
        return;
    }
  };

  const resolveName = (name: string, expr: Expr, bound: ReadonlySet<string>): void => {
    if (bound.has(name)) return;
    if (declared.includes(name)) {
      variables.add(name);
      return;
    }
    if (TYPE_NAMES.has(name)) return;
    const hint = closest(name, declared);
    problems.push(
      `unknown variable ${JSON.stringify(name)}${at(expr)}` +
        (hint === undefined ? "" : ` (did you mean ${JSON.stringify(hint)}?)`) +
        `; the variables are ${declared.join(", ")}`,
    );
  };

  walk(parsed.expr, new Set());
  return { variables, error: problems[0] };
}

function isTypeName(
  name: string,
  env: CelEnv,
  bound: ReadonlySet<string>,
  declared: readonly string[],
): boolean {
  const root = name.split(".")[0] ?? "";
  if (bound.has(root) || declared.includes(root)) return false;
  return env.registry.getMessage(name) !== undefined;
}

/** "a.b.c" for a chain of field selections on an identifier; undefined for anything else. */
function qualifiedName(expr: Expr): string | undefined {
  const kind = expr.exprKind;
  if (kind.case === "identExpr") return kind.value.name;
  if (kind.case !== "selectExpr" || kind.value.testOnly || kind.value.operand === undefined) return undefined;
  const operand = qualifiedName(kind.value.operand);
  return operand === undefined ? undefined : `${operand}.${kind.value.field}`;
}

/** "at line L, column C", 1-based, from the parser's per-node character offsets; "" if unknown. */
export function locate(source: string, info: SourceInfo | undefined, expr: Expr): string {
  const offset = info?.positions[expr.id.toString()];
  if (offset === undefined) return "";
  return describeOffset(source, offset);
}

export function describeOffset(source: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return `at line ${line}, column ${offset - lineStart + 1}`;
}

/** The candidate a typo of `name` most likely meant; none for names too short to tell. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(name.length / 2));
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
