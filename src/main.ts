#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { ConfigError, loadConfig, usage } from "./config.js";
import { createLogger } from "./observability/logger.js";
import { startOperator } from "./run.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

async function run(argv: string[]): Promise<number> {
  let cfg;
  try {
    cfg = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hookstream: ${err.message}\nRun 'hookstream --help' for the flags.`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(cfg.logLevel);
  log.info(
    { version: version(), namespaces: cfg.namespaces.length ? cfg.namespaces : "all" },
    "starting hookstream",
  );
  let operator;
  try {
    operator = await startOperator(cfg, log);
  } catch (err) {
    log.fatal({ err }, "hookstream could not start");
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log.info({ signal, timeoutMs: cfg.shutdownTimeoutMs }, "shutting down");
  // A second signal, or the deadline, ends the process at once: the unacked work is redelivered by JetStream.
  const force = (why: string) => () => {
    log.warn({ why }, "shutdown cut short; unfinished work will be redelivered");
    process.exit(1);
  };
  process.once("SIGTERM", force("second SIGTERM"));
  process.once("SIGINT", force("second SIGINT"));
  const deadline = setTimeout(force("shutdown timeout"), cfg.shutdownTimeoutMs);
  deadline.unref();
  await operator.stop();
  clearTimeout(deadline);
  log.info("stopped");
  return 0;
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === "--help" || command === "-h" || command === "help") {
  console.log(usage());
  process.exitCode = command === undefined ? 2 : 0;
} else if (command === "version" || command === "--version") {
  console.log(version());
} else if (command === "run") {
  run(rest).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error("hookstream: unexpected error:", err);
      process.exitCode = 1;
    },
  );
} else {
  console.error(`hookstream: unknown command "${command}"\n\n${usage()}`);
  process.exitCode = 2;
}
