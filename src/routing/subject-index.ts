import { BoundedCache } from "./bounded-cache.js";

/** One subscription pattern and the value it routes to. */
export interface PatternEntry<T> {
  readonly pattern: string;
  readonly value: T;
}

export interface SubjectIndexOptions {
  /**
   * Subjects whose results are remembered (per generation; see BoundedCache). Safe because the
   * index never changes after build. 0 turns the cache off. Default 8192: event streams reuse a
   * small set of subjects, and each entry is a subject string plus a shared result array.
   */
  readonly cacheSize?: number;
}

const DEFAULT_CACHE_SIZE = 8192;
const NO_VALUES: readonly never[] = Object.freeze([]);

/** Trie level; one fixed shape so property reads on the hot path stay monomorphic. */
class Node<T> {
  literals: Map<string, Node<T>> | undefined = undefined;
  star: Node<T> | undefined = undefined;
  /** Values of patterns that end exactly here. */
  exact: readonly T[] | undefined = undefined;
  /** Values of patterns that end with `>` here: they match any one-or-more further tokens. */
  tail: readonly T[] | undefined = undefined;
}

/**
 * Maps NATS subjects to the values of every pattern (`*` and `>` wildcards) that matches them.
 * Immutable once built: routing-table swaps build a new one.
 *
 * Patterns are assumed valid (see validatePattern); the controller validates before building.
 */
export class SubjectIndex<T> {
  private readonly root: Node<T>;
  private readonly cache: BoundedCache<string, readonly T[]> | undefined;
  // Per-lookup scratch, reused so that a lookup allocates only its token strings (and a result
  // array when several trie nodes contribute). Safe: match is synchronous and never re-entered.
  private readonly tokens: string[] = [];
  private readonly hits: (readonly T[])[] = [];

  constructor(entries: Iterable<PatternEntry<T>>, options: SubjectIndexOptions = {}) {
    this.root = buildTrie(entries);
    const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.cache = cacheSize > 0 ? new BoundedCache(cacheSize) : undefined;
  }

  /**
   * Every value with at least one pattern matching `subject`, each once (by identity). The
   * returned array is shared between calls and must not be modified. It is typed readonly but
   * not always frozen: freezing a fresh array costs more than the whole lookup.
   */
  match(subject: string): readonly T[] {
    const cached = this.cache?.get(subject);
    if (cached !== undefined) return cached;
    const count = tokenize(subject, this.tokens);
    const found = collect(this.root, this.tokens, count, 0, this.hits, 0);
    let result: readonly T[];
    if (found === 0) result = NO_VALUES;
    else if (found === 1) result = this.hits[0] as readonly T[];
    else result = mergeDistinct(this.hits, found);
    this.cache?.set(subject, result);
    return result;
  }
}

/** Splits on "." into `into`, returning the token count; cheaper than split(), no new array. */
function tokenize(subject: string, into: string[]): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const end = subject.indexOf(".", start);
    if (end === -1) {
      into[count++] = start === 0 ? subject : subject.slice(start);
      return count;
    }
    into[count++] = subject.slice(start, end);
    start = end + 1;
  }
}

/** Appends the value arrays of every trie node matching tokens[depth..count) from `node`. */
function collect<T>(
  node: Node<T>,
  tokens: readonly string[],
  count: number,
  depth: number,
  hits: (readonly T[])[],
  found: number,
): number {
  if (depth === count) {
    if (node.exact !== undefined) hits[found++] = node.exact;
    return found;
  }
  if (node.tail !== undefined) hits[found++] = node.tail;
  const literal = node.literals?.get(tokens[depth] as string);
  if (literal !== undefined) found = collect(literal, tokens, count, depth + 1, hits, found);
  if (node.star !== undefined) found = collect(node.star, tokens, count, depth + 1, hits, found);
  return found;
}

/** Small results are the norm; a linear scan beats allocating a Set for them. */
const SMALL_RESULT = 16;

/** Concatenates the first `count` node arrays, dropping values reached through several patterns. */
function mergeDistinct<T>(parts: readonly (readonly T[])[], count: number): readonly T[] {
  let total = 0;
  for (let i = 0; i < count; i++) total += (parts[i] as readonly T[]).length;
  const out: T[] = [];
  const seen = total > SMALL_RESULT ? new Set<T>() : undefined;
  for (let i = 0; i < count; i++) {
    const part = parts[i] as readonly T[];
    for (let j = 0; j < part.length; j++) {
      const value = part[j] as T;
      if (seen === undefined ? out.includes(value) : seen.has(value)) continue;
      seen?.add(value);
      out.push(value);
    }
  }
  return out;
}

/** Build-time node: Sets dedupe a value listed twice under one pattern, then become arrays. */
interface Draft<T> {
  literals: Map<string, Draft<T>> | undefined;
  star: Draft<T> | undefined;
  exact: Set<T> | undefined;
  tail: Set<T> | undefined;
}

function newDraft<T>(): Draft<T> {
  return { literals: undefined, star: undefined, exact: undefined, tail: undefined };
}

function buildTrie<T>(entries: Iterable<PatternEntry<T>>): Node<T> {
  const root = newDraft<T>();
  for (const { pattern, value } of entries) {
    let node = root;
    const tokens = pattern.split(".");
    const last = tokens.length - 1;
    for (let i = 0; i <= last; i++) {
      const token = tokens[i] as string;
      if (token === ">" && i === last) {
        (node.tail ??= new Set()).add(value);
        break;
      }
      if (token === "*") {
        node = node.star ??= newDraft<T>();
      } else {
        const literals = (node.literals ??= new Map<string, Draft<T>>());
        let child = literals.get(token);
        if (child === undefined) literals.set(token, (child = newDraft<T>()));
        node = child;
      }
      if (i === last) (node.exact ??= new Set()).add(value);
    }
  }
  return freeze(root);
}

function freeze<T>(draft: Draft<T>): Node<T> {
  const node = new Node<T>();
  if (draft.literals !== undefined) {
    node.literals = new Map();
    for (const [token, child] of draft.literals) node.literals.set(token, freeze(child));
  }
  if (draft.star !== undefined) node.star = freeze(draft.star);
  if (draft.exact !== undefined) node.exact = Object.freeze([...draft.exact]);
  if (draft.tail !== undefined) node.tail = Object.freeze([...draft.tail]);
  return node;
}
