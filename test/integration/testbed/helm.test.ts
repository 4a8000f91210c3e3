import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "@jest/globals";
import { REPO_ROOT } from "../../bed/binaries.js";
import { bedEnv } from "../env.js";

const run = promisify(execFile);

describe("test bed: helm", () => {
  it("lints the chart strictly", async () => {
    const helm = bedEnv("TEST_ASSET_HELM");
    const { stdout } = await run(helm, ["lint", "--strict", `${REPO_ROOT}charts/hookstream`]);
    expect(stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("reports the version it was built at", async () => {
    const { stdout } = await run(bedEnv("TEST_ASSET_HELM"), ["version", "--short"]);
    expect(stdout.trim()).toMatch(/^v3\.\d+\.\d+/);
  });
});
