import type { CompiledFilter } from "./filter.js";
import type { FilterEvent } from "./filter-event.js";
import { type PatternEntry, SubjectIndex, type SubjectIndexOptions } from "./subject-index.js";

/** One subscription as the router sees it. */
export interface Route<T> {
  /** "namespace/name" of the WebhookSubscription. */
  readonly key: string;
  /** Valid NATS patterns (the controller validates before building). */
  readonly subjects: readonly string[];
  readonly filter?: CompiledFilter;
  /** Whatever the deliveries need: the controller puts the resolved subscription here. */
  readonly target: T;
}

/** Called once per route whose filter failed to evaluate (such a route does not match). */
export type FilterErrorHandler<T> = (route: Route<T>, error: string) => void;

/** Process-wide, so a newer snapshot always has the higher version, whoever built it. */
let lastVersion = 0;

/**
 * An immutable snapshot of all routes. Ingest uses it in three steps, so it parses JSON only
 * when it must:
 *
 *     const candidates = table.match(subject);         // subjects only, cheap
 *     if (needsData(candidates)) data = parse payload;  // dead-letter if it is not JSON
 *     const targets = table.filter(candidates, event, onFilterError);
 */
export class RoutingTable<T> {
  readonly version: number;
  readonly routes: readonly Route<T>[];
  private readonly index: SubjectIndex<Route<T>>;
  private readonly byKey: ReadonlyMap<string, Route<T>>;

  private constructor(routes: readonly Route<T>[], options: SubjectIndexOptions) {
    this.version = ++lastVersion;
    this.routes = Object.freeze([...routes]);
    this.index = new SubjectIndex(patternEntries(this.routes), options);
    this.byKey = new Map(this.routes.map((route) => [route.key, route]));
  }

  /** Builds a snapshot. Routes are trusted: validation belongs to the controller. */
  static build<T>(routes: readonly Route<T>[], options: SubjectIndexOptions = {}): RoutingTable<T> {
    return new RoutingTable(routes, options);
  }

  static empty<T>(): RoutingTable<T> {
    return new RoutingTable<T>([], {});
  }

  /** Number of routes. */
  get size(): number {
    return this.routes.length;
  }

  get(key: string): Route<T> | undefined {
    return this.byKey.get(key);
  }

  /** Routes with a subject pattern matching `subject`, each once; filters not applied. */
  match(subject: string): readonly Route<T>[] {
    return this.index.match(subject);
  }

  /**
   * The candidates whose filter passes (or that have none). Returns `candidates` itself when no
   * candidate has a filter, so the common case allocates nothing.
   */
  filter(
    candidates: readonly Route<T>[],
    event: FilterEvent,
    onFilterError?: FilterErrorHandler<T>,
  ): readonly Route<T>[] {
    if (!anyFiltered(candidates)) return candidates;
    const passed: Route<T>[] = [];
    for (const route of candidates) {
      if (route.filter === undefined) {
        passed.push(route);
        continue;
      }
      const result = route.filter.evaluate(event);
      if (result.match) passed.push(route);
      else if (result.error !== undefined) onFilterError?.(route, result.error);
    }
    return passed;
  }

  /** match + filter in one call, for callers that already have `data` (or know it is unneeded). */
  route(event: FilterEvent, onFilterError?: FilterErrorHandler<T>): readonly Route<T>[] {
    return this.filter(this.match(event.subject), event, onFilterError);
  }
}

/** Whether any of these routes has a filter reading `data`, i.e. the payload must be parsed. */
export function needsData(routes: readonly Route<unknown>[]): boolean {
  for (const route of routes) if (route.filter?.needsData === true) return true;
  return false;
}

function anyFiltered(routes: readonly Route<unknown>[]): boolean {
  for (const route of routes) if (route.filter !== undefined) return true;
  return false;
}

function* patternEntries<T>(routes: readonly Route<T>[]): Iterable<PatternEntry<Route<T>>> {
  for (const route of routes) for (const pattern of route.subjects) yield { pattern, value: route };
}

/**
 * Holds the snapshot deliveries read. Swapping is a single reference assignment: JavaScript runs
 * one callback at a time on the event loop, so no reader can observe a half-built table — each
 * `current()` returns either the whole old snapshot or the whole new one. Readers that need one
 * consistent view for a whole event should call current() once and keep the result.
 */
export class RoutingTableHolder<T> {
  private table: RoutingTable<T>;

  constructor(initial: RoutingTable<T> = RoutingTable.empty<T>()) {
    this.table = initial;
  }

  current(): RoutingTable<T> {
    return this.table;
  }

  /**
   * Installs `next` unless it is older than the current snapshot (a slow rebuild finishing after
   * a newer one must not roll routing back). Returns whether it was installed.
   */
  swap(next: RoutingTable<T>): boolean {
    if (next.version < this.table.version) return false;
    this.table = next;
    return true;
  }
}
