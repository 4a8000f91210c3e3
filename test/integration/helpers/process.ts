import { spawn, type ChildProcess } from "node:child_process";
import { REPO_ROOT } from "../../bed/binaries.js";
import { bedEnv } from "../env.js";

export interface OperatorProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The flags that point an operator at the test bed, on a free health port. */
export function bedOperatorArgs(): string[] {
  return [
    "--kubeconfig",
    bedEnv("HOOKSTREAM_TEST_KUBECONFIG"),
    "--nats-url",
    bedEnv("HOOKSTREAM_TEST_NATS_URL"),
    "--health-addr",
    "127.0.0.1:0",
  ];
}

/** Runs `hookstream run` as its own process (for SIGKILL and leader tests), against the test bed. */
export function spawnOperator(
  args: string[],
  env: Record<string, string> = {},
  /** Run the tsc output in dist/ with plain node, as the image does, instead of the sources. */
  built = false,
): OperatorProcess {
  const entry = built ? ["dist/main.js"] : ["--import", "tsx", "src/main.ts"];
  const child = spawn(process.execPath, [...entry, "run", ...bedOperatorArgs(), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOOKSTREAM_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function killAndWait(
  p: OperatorProcess,
  signal: NodeJS.Signals = "SIGKILL",
): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  p.child.kill(signal);
  return p.exited;
}

/** Whether a process with this PID still exists (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
