/** The WebhookSubscription API: types, defaults, the CRD schema and duration parsing. Pure: no I/O. */
export * from "./types.js";
export * from "./defaults.js";
export * from "./schema.js";
export { formatDuration, parseDuration } from "./duration.js";
