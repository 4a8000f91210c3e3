import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type Config } from "../../../src/config.js";
import { createLogger } from "../../../src/observability/logger.js";
import { startOperator, type RunningOperator } from "../../../src/run.js";
import { bedEnv, uniqueName } from "../env.js";
import { streamArgs, streamNames } from "./nats.js";
import { bedOperatorArgs } from "./process.js";

export interface TestOperatorOptions {
  namespaces: string[];
  /** Stream names; fresh ones when absent. */
  streams?: ReturnType<typeof streamNames>;
  args?: string[];
  policy?: string;
}

/** Runs the real operator in-process against the test bed, scoped to the test's namespaces. */
export async function startTestOperator(
  opts: TestOperatorOptions,
): Promise<RunningOperator & { cfg: Config }> {
  const args = [
    ...bedOperatorArgs(),
    "--namespaces",
    opts.namespaces.join(","),
    "--leader-election-id",
    uniqueName("lease"),
    "--leader-election-namespace",
    opts.namespaces[0] ?? "default",
    "--ssrf-allow-cidrs",
    "127.0.0.0/8",
    ...streamArgs(opts.streams ?? streamNames("op")),
    ...(opts.args ?? []),
  ];
  if (opts.policy !== undefined) {
    const file = join(bedEnv("HOOKSTREAM_TEST_DIR"), `${uniqueName("policy")}.yaml`);
    writeFileSync(file, opts.policy);
    args.push("--subject-policy", file);
  }
  const cfg = loadConfig(args, {});
  const log = createLogger((process.env.HOOKSTREAM_TEST_LOG_LEVEL as "info" | undefined) ?? "silent");
  const op = await startOperator(cfg, log);
  return Object.assign(op, { cfg });
}
