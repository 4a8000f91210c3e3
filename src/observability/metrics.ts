import { Registry, collectDefaultMetrics } from "prom-client";

/** One registry per process (not prom-client's global), so tests can build several in one process. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "hookstream_" });
  return registry;
}
