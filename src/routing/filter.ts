/**
 * CEL filters on events, compiled once per subscription and evaluated per matched event.
 *
 * Numbers: JSON numbers reach CEL as `double`. Comparisons across numeric types work
 * (`data.total > 100`, `data.total > 100.5`, `data.total == 150`), but CEL has no mixed-type
 * arithmetic, so write `data.total + 1.0`, not `data.total + 1`, or convert with int().
 * Integers beyond 2^53 lose precision in JSON.parse, as anywhere in JavaScript.
 *
 * `time` is a CEL timestamp: `time > timestamp("2024-01-01T00:00:00Z")`, `time.getHours()`.
 */
import {
  type CelEnv,
  type CelInput,
  CelScalar,
  celEnv,
  celType,
  isCelError,
  mapType,
  objectType,
  parse,
  plan,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { checkNames, describeOffset } from "./filter-check.js";
import { FILTER_VARIABLES, type FilterEvent, type FilterVariable, celValueOf } from "./filter-event.js";

export interface FilterResult {
  readonly match: boolean;
  /** Why the filter could not be evaluated; `match` is then false. */
  readonly error?: string;
}

export interface CompiledFilter {
  readonly source: string;
  /** The expression reads `data`: the payload must be parsed as JSON before evaluating. */
  readonly needsData: boolean;
  /** Never throws: evaluation errors and non-boolean results are a non-match with an error. */
  evaluate(event: FilterEvent): FilterResult;
}

export type CompileResult =
  { readonly ok: true; readonly filter: CompiledFilter } | { readonly ok: false; readonly error: string };

/**
 * One environment for all filters: declared variables document the event shape, and the
 * strings extension adds lowerAscii(), split(), replace() and friends. Typed as the plain CelEnv
 * because evaluation binds only the variables an expression reads, not all of them.
 */
const ENV: CelEnv = celEnv({
  funcs: strings,
  variables: {
    subject: CelScalar.STRING,
    id: CelScalar.STRING,
    headers: mapType(CelScalar.STRING, CelScalar.STRING),
    data: CelScalar.DYN,
    time: objectType("google.protobuf.Timestamp"),
  },
});

/** Shared results: a matching or non-matching evaluation allocates nothing of its own. */
const MATCH: FilterResult = Object.freeze({ match: true });
const NO_MATCH: FilterResult = Object.freeze({ match: false });
const NO_DATA: FilterResult = Object.freeze({
  match: false,
  error: "the filter reads data, but the event payload is not JSON (or was not parsed)",
});

/** Compiles a filter expression, or explains what is wrong with it. */
export function compileFilter(source: string): CompileResult {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (error) {
    return { ok: false, error: describeSyntaxError(source, error) };
  }
  const names = checkNames(source, parsed, ENV, FILTER_VARIABLES);
  if (names.error !== undefined) return { ok: false, error: names.error };
  let program: ReturnType<typeof plan>;
  try {
    program = plan(ENV, parsed);
  } catch (error) {
    return { ok: false, error: `cannot compile filter: ${messageOf(error)}` };
  }
  const variables = FILTER_VARIABLES.filter((name) => names.variables.has(name));
  return { ok: true, filter: new Filter(source, variables, program) };
}

class Filter implements CompiledFilter {
  readonly needsData: boolean;

  constructor(
    readonly source: string,
    private readonly variables: readonly FilterVariable[],
    private readonly program: ReturnType<typeof plan>,
  ) {
    this.needsData = variables.includes("data");
  }

  evaluate(event: FilterEvent): FilterResult {
    if (this.needsData && event.data === undefined) return NO_DATA;
    try {
      const bindings: Record<string, CelInput> = {};
      for (const name of this.variables) {
        const value = celValueOf(name, event);
        if (value !== undefined) bindings[name] = value;
      }
      const result = this.program(bindings);
      if (result === true) return MATCH;
      if (result === false) return NO_MATCH;
      if (isCelError(result)) return { match: false, error: result.message };
      return { match: false, error: `the filter must return a bool, but returned a ${celType(result).name}` };
    } catch (error) {
      // plan() already turns evaluation exceptions into CelErrors; this guards the conversion of
      // the event (e.g. an invalid Date) so that one bad event never breaks the ingest loop.
      return { match: false, error: messageOf(error) };
    }
  }
}

/** Parser errors carry a location; say where, in the words a person editing YAML needs. */
function describeSyntaxError(source: string, error: unknown): string {
  const detail = (typeof error === "object" && error !== null ? error : {}) as {
    rawMessage?: unknown;
    location?: { start?: { offset?: unknown } };
  };
  const offset = detail.location?.start?.offset;
  const message = typeof detail.rawMessage === "string" ? detail.rawMessage : messageOf(error);
  if (typeof offset !== "number") return `syntax error: ${message}`;
  return `syntax error ${describeOffset(source, offset)}: ${message}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
