import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { format, resolveConfig } from "prettier";
import { crdReference, flagReference, metricsReference, render } from "../../../hack/gen-docs.js";

const README = new URL("../../../README.md", import.meta.url);

describe("README reference sections", () => {
  it("are what hack/gen-docs.ts generates from the code (run npm run gen:docs)", async () => {
    const current = readFileSync(README, "utf8");
    const options = (await resolveConfig(README.pathname)) ?? {};
    expect(await format(await render(current), { ...options, parser: "markdown" })).toBe(current);
  });

  it("cover every spec field, flag and metric", () => {
    expect(crdReference()).toContain("`spec.delivery.retry.schedule`");
    expect(crdReference()).toContain("`spec.endpoint.auth.bearer.secretRef.key`");
    expect(flagReference()).toContain("`--ssrf-allow-cidrs`");
    expect(metricsReference()).toContain("`hookstream_delivery_attempts_total`");
  });
});
