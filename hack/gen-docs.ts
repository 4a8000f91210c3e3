// Writes the reference sections of README.md from the code they describe, so they cannot drift:
// the WebhookSubscription fields (src/api/schema.ts), the operator's flags (src/config.ts) and its
// metrics (src/observability/metrics.ts). Each lives between `<!-- gen:NAME -->` markers.
//   npm run gen:docs            rewrite README.md
//   npm run gen:docs -- --check exit 1 when README.md is out of date
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { Registry } from "prom-client";
import { webhookSubscriptionSchema, type JSONSchemaProps } from "../src/api/schema.js";
import { OPTIONS } from "../src/config.js";
import { OperatorMetrics } from "../src/observability/metrics.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));

function cell(text: string): string {
  return text
    .replace(/\|/g, "\\|")
    .replace(/\s*\n\s*/g, " ")
    .trim();
}

function typeOf(s: JSONSchemaProps): string {
  if (s.type === "array") return `[]${s.items ? typeOf(s.items) : ""}`;
  if (s.type === "object" && s.additionalProperties) return `map[string]${typeOf(s.additionalProperties)}`;
  if (s.enum) return s.enum.map((e) => `\`${e}\``).join(" \\| ");
  return s.type ?? "";
}

function fieldRows(s: JSONSchemaProps, path: string, required: boolean, rows: string[]): void {
  if (path) {
    const def =
      s.default !== undefined && JSON.stringify(s.default) !== "{}" ? `\`${JSON.stringify(s.default)}\`` : "";
    rows.push(
      `| \`${path}\`${required ? " (required)" : ""} | ${typeOf(s)} | ${def} | ${cell(s.description ?? "")} |`,
    );
  }
  const props = s.properties ?? (s.type === "array" ? s.items?.properties : undefined);
  const req = s.required ?? (s.type === "array" ? s.items?.required : undefined) ?? [];
  if (!props) return;
  for (const [name, child] of Object.entries(props)) {
    fieldRows(
      child,
      path ? `${path}${s.type === "array" ? "[]" : ""}.${name}` : name,
      req.includes(name),
      rows,
    );
  }
}

export function crdReference(): string {
  const rows = ["| field | type | default | description |", "|---|---|---|---|"];
  const spec = webhookSubscriptionSchema.properties?.spec;
  if (spec) fieldRows(spec, "spec", true, rows);
  return rows.join("\n");
}

export function flagReference(): string {
  const rows = ["| flag | environment | default | what it does |", "|---|---|---|---|"];
  for (const o of OPTIONS)
    rows.push(
      `| \`--${o.flag}\` | \`${o.env}\` | ${o.default !== undefined ? `\`${o.default}\`` : ""} | ${cell(o.help)} |`,
    );
  return rows.join("\n");
}

export function metricsReference(): string {
  const registry = new Registry();
  new OperatorMetrics(registry);
  const rows = ["| metric | type | labels | meaning |", "|---|---|---|---|"];
  for (const m of registry.getMetricsAsArray()) {
    const {
      name,
      help,
      type,
      labelNames = [],
    } = m as unknown as { name: string; help: string; type: string; labelNames?: string[] };
    rows.push(`| \`${name}\` | ${type} | ${labelNames.join(", ")} | ${cell(help)} |`);
  }
  return rows.join("\n");
}

export async function render(readme: string): Promise<string> {
  const sections: Record<string, string> = {
    crd: crdReference(),
    flags: flagReference(),
    metrics: metricsReference(),
  };
  let out = readme;
  for (const [name, body] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- gen:${name} -->)[\\s\\S]*?(<!-- /gen:${name} -->)`);
    if (!re.test(out))
      throw new Error(`README.md has no <!-- gen:${name} --> … <!-- /gen:${name} --> section`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}\n${body}\n${close}`);
  }
  return out;
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  const current = readFileSync(README, "utf8");
  // Formatted with the repository's prettier settings, so `prettier --check .` agrees with the generator.
  const next = await format(await render(current), {
    ...((await resolveConfig(README)) ?? {}),
    parser: "markdown",
  });
  if (process.argv.includes("--check")) {
    if (next !== current) {
      console.error("README.md reference sections are out of date: run npm run gen:docs");
      process.exit(1);
    }
  } else {
    writeFileSync(README, next);
  }
}
