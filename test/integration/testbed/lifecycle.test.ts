import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "@jest/globals";
import { REPO_ROOT } from "../../bed/binaries.js";
import { alive } from "../helpers/process.js";

/** Starts `npm run testbed`'s script and resolves once it printed TESTBED_DIR and its servers' PIDs exist. */
async function startManualBed(): Promise<{
  child: ChildProcess;
  dir: string;
  pids: number[];
  out: string[];
}> {
  const child = spawn(process.execPath, ["--import", "tsx", "hack/testbed.ts"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: string[] = [];
  child.stdout?.on("data", (d: Buffer) => out.push(...d.toString().split("\n").filter(Boolean)));
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 150_000;
  while (!out.some((l) => l.startsWith("TESTBED_DIR="))) {
    if (child.exitCode !== null) throw new Error(`testbed exited early:\n${err}`);
    if (Date.now() > deadline) throw new Error(`testbed not ready:\n${err}`);
    await sleep(200);
  }
  const dir = out.find((l) => l.startsWith("TESTBED_DIR="))!.slice("TESTBED_DIR=".length);
  const pids = readFileSync(join(dir, "pids"), "utf8").split("\n").filter(Boolean).map(Number);
  return { child, dir, pids, out };
}

async function waitGone(pids: number[], dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((pids.some(alive) || existsSync(dir)) && Date.now() < deadline) await sleep(200);
}

describe("test bed lifecycle: nothing outlives it", () => {
  it("prints KUBECONFIG and NATS_URL, and cleans up on SIGINT", async () => {
    const bed = await startManualBed();
    expect(bed.out.some((l) => /^KUBECONFIG=\/.+kubeconfig$/.test(l))).toBe(true);
    expect(bed.out.some((l) => /^NATS_URL=nats:\/\/127\.0\.0\.1:\d+$/.test(l))).toBe(true);
    expect(bed.pids.length).toBe(3); // etcd, kube-apiserver, nats-server
    expect(bed.pids.every(alive)).toBe(true);
    const exited = new Promise<number | null>((r) => bed.child.once("exit", (code) => r(code)));
    bed.child.kill("SIGINT");
    expect(await exited).toBe(0);
    await waitGone(bed.pids, bed.dir, 15_000);
    expect(bed.pids.filter(alive)).toEqual([]);
    expect(existsSync(bed.dir)).toBe(false);
  }, 200_000);

  it("cleans up even when the process that started it is SIGKILLed", async () => {
    const bed = await startManualBed();
    expect(bed.pids.every(alive)).toBe(true);
    bed.child.kill("SIGKILL");
    await waitGone(bed.pids, bed.dir, 20_000);
    expect(bed.pids.filter(alive)).toEqual([]);
    expect(existsSync(bed.dir)).toBe(false);
  }, 200_000);
});
