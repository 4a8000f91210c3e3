/** Routing core: which subscriptions an event goes to. Pure: no I/O. */
export { MAX_SUBJECT_LENGTH, patternMatches, validatePattern, validateSubject } from "./subject.js";
export { type PatternEntry, SubjectIndex, type SubjectIndexOptions } from "./subject-index.js";
export { type CompileResult, type CompiledFilter, type FilterResult, compileFilter } from "./filter.js";
export {
  FILTER_VARIABLES,
  type FilterEvent,
  type FilterVariable,
  headersFromEntries,
} from "./filter-event.js";
export { type FilterErrorHandler, type Route, RoutingTable, RoutingTableHolder, needsData } from "./table.js";
