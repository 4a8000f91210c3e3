// Checks of the chart's files that need no helm and no servers: the CRD copy, versions, and that the
// values and their schema agree with the operator's own configuration table (src/config.ts).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { parse } from "yaml";
import { OPTIONS } from "../../../src/config.js";
import { LOG_LEVELS } from "../../../src/observability/logger.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHART = join(ROOT, "charts", "hookstream");

type Json = Record<string, unknown>;
const values = parse(readFileSync(join(CHART, "values.yaml"), "utf8")) as Json;
const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")) as Json;

function at(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Json | undefined)?.[k], obj);
}

function schemaAt(path: string): Json {
  let node: Json = schema;
  for (const key of path.split(".")) node = (node.properties as Json)[key] as Json;
  return node;
}

function defaultOf(env: string): string | undefined {
  const option = OPTIONS.find((o) => o.env === env);
  if (!option) throw new Error(`src/config.ts has no option read from ${env}`);
  return option.default;
}

describe("chart files", () => {
  it("ships the same CRD files as crds/, byte for byte", () => {
    const top = readdirSync(join(ROOT, "crds")).sort();
    const chart = readdirSync(join(CHART, "crds")).sort();
    expect(chart).toEqual(top);
    expect(top.length).toBeGreaterThan(0);
    for (const file of top) {
      const a = readFileSync(join(ROOT, "crds", file));
      const b = readFileSync(join(CHART, "crds", file));
      expect([file, a.equals(b)]).toEqual([file, true]);
    }
  });

  it("has appVersion equal to package.json's version", () => {
    const chart = parse(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as { appVersion: string };
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
  });

  it("defaults every value to the operator's own default", () => {
    const pairs: [string, string][] = [
      ["logLevel", "HOOKSTREAM_LOG_LEVEL"],
      ["statusInterval", "HOOKSTREAM_STATUS_INTERVAL"],
      ["resyncPeriod", "HOOKSTREAM_RESYNC_PERIOD"],
      ["watchSilence", "HOOKSTREAM_WATCH_SILENCE"],
      ["stream.name", "HOOKSTREAM_STREAM"],
      ["stream.maxAge", "HOOKSTREAM_STREAM_MAX_AGE"],
      ["stream.retention", "HOOKSTREAM_STREAM_RETENTION"],
      ["stream.replicas", "HOOKSTREAM_STREAM_REPLICAS"],
      ["stream.consumer", "HOOKSTREAM_CONSUMER"],
      ["stream.ackWait", "HOOKSTREAM_ACK_WAIT"],
      ["stream.maxAckPending", "HOOKSTREAM_MAX_ACK_PENDING"],
      ["stream.retryStream", "HOOKSTREAM_RETRY_STREAM"],
      ["stream.retrySubjectPrefix", "HOOKSTREAM_RETRY_SUBJECT_PREFIX"],
      ["delivery.handoffAfter", "HOOKSTREAM_HANDOFF_AFTER"],
      ["delivery.maxEventBytes", "HOOKSTREAM_MAX_EVENT_BYTES"],
      ["delivery.workers", "HOOKSTREAM_DELIVERY_WORKERS"],
      ["leaderElection.enabled", "HOOKSTREAM_LEADER_ELECT"],
    ];
    for (const [path, env] of pairs) {
      expect([path, String(at(values, path))]).toEqual([path, defaultOf(env)]);
    }
    // The chart sets the shutdown deadline 5 s inside the grace period: the operator's default, 25s.
    expect(`${(values.terminationGracePeriodSeconds as number) - 5}s`).toBe(
      defaultOf("HOOKSTREAM_SHUTDOWN_TIMEOUT"),
    );
    // Lists the operator reads comma-separated default to empty, as the operator does.
    expect(at(values, "stream.subjects")).toEqual([]);
    expect(at(values, "ssrf.allowCIDRs")).toEqual([]);
    expect(values.watchNamespaces).toEqual([]);
    expect(defaultOf("HOOKSTREAM_STREAM_SUBJECTS")).toBeUndefined();
    expect(defaultOf("HOOKSTREAM_NAMESPACES")).toBeUndefined();
  });

  it("offers exactly the operator's log levels and retentions", () => {
    expect(schemaAt("logLevel").enum).toEqual([...LOG_LEVELS]);
    expect(schemaAt("stream.retention").enum).toEqual(["limits", "interest"]);
    expect(OPTIONS.find((o) => o.env === "HOOKSTREAM_STREAM_RETENTION")?.help).toContain(
      "limits or interest",
    );
  });

  it("closes every object in the schema (a typo in values fails instead of being ignored)", () => {
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => walk(n, `${path}[${i}]`));
        return;
      }
      if (node === null || typeof node !== "object") return;
      const n = node as Json;
      const types = ([] as unknown[]).concat(n.type ?? []);
      if (types.includes("object") && !("additionalProperties" in n)) open.push(path || "(root)");
      if (n.properties && n.additionalProperties !== false) open.push(`${path} (has properties but is open)`);
      for (const [k, v] of Object.entries(n)) walk(v, `${path}/${k}`);
    };
    walk(schema, "");
    expect(open).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
    // Every top-level value is described by the schema, and the schema describes nothing more.
    expect(Object.keys(schema.properties as Json).sort()).toEqual(Object.keys(values).sort());
  });
});
