import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "@jest/globals";
import { REPO_ROOT } from "../../bed/binaries.js";
import { alive } from "../helpers/process.js";

/**
 * `npm run demo`, the README's first command, run as a user runs it. The demo starts its own test bed
 * (independent of the one the global setup started), so each run takes some 15 s.
 */

interface DemoRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** The bed directory the demo printed (TESTBED_DIR=). */
  dir: () => string | undefined;
  /** Every PID ever listed in <dir>/pids while the demo ran: the bed's servers, receiver and operator. */
  pids: Set<number>;
}

const runs: DemoRun[] = [];

function runDemo(args: string[], env: Record<string, string> = {}): DemoRun {
  const child = spawn(process.execPath, ["--import", "tsx", "hack/demo.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let dir: string | undefined;
  const pids = new Set<number>();
  const collect = (d: Buffer) => {
    out += d.toString();
    dir ??= /^TESTBED_DIR=(\S+)\n/m.exec(out)?.[1];
    // Read on every bit of output: the demo adds its children to the file after the bed's servers,
    // and the file is gone once it has cleaned up.
    if (dir && existsSync(join(dir, "pids"))) {
      for (const line of readFileSync(join(dir, "pids"), "utf8").split("\n"))
        if (line) pids.add(Number(line));
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const run = { child, output: () => out, exited, dir: () => dir, pids };
  runs.push(run);
  return run;
}

/** Nothing the demo started outlives it: every listed process has exited and the bed's directory is gone. */
async function expectCleanedUp(run: DemoRun, expectedProcesses: number): Promise<void> {
  const dir = run.dir();
  expect(dir).toMatch(/hookstream-bed-/);
  // etcd, kube-apiserver, nats-server, then the receiver and the operator the demo started.
  expect(run.pids.size).toBe(expectedProcesses);
  const deadline = Date.now() + 15_000;
  while (([...run.pids].some(alive) || existsSync(dir!)) && Date.now() < deadline) await sleep(200);
  expect([...run.pids].filter(alive)).toEqual([]);
  expect(existsSync(dir!)).toBe(false);
}

/** The `kubectl get whs -n shop` table (or the same columns from the API): Ready=True, deliveries counted. */
function expectReadyRow(out: string): void {
  const lines = out.split("\n");
  const header = lines.findIndex((l) =>
    /^NAME\s+READY\s+REASON\s+ENDPOINT\s+SUCCEEDED\s+FAILED\s+LAST CODE\s+AGE$/.test(l),
  );
  expect(header).toBeGreaterThan(0);
  // Column names may hold one space ("LAST CODE"); columns are at least two spaces apart.
  const columns = lines[header]!.trim().split(/\s{2,}/);
  const row = lines.slice(header + 1).find((l) => l.startsWith("orders-basic "));
  expect(row).toBeDefined();
  const cells: Record<string, string> = {};
  row!
    .trim()
    .split(/\s+/)
    .forEach((value, i) => (cells[columns[i] ?? `column ${i}`] = value));
  expect(cells).toMatchObject({
    NAME: "orders-basic",
    READY: "True",
    ENDPOINT: "Active",
    "LAST CODE": "204",
  });
  expect(Number(cells.SUCCEEDED)).toBeGreaterThanOrEqual(3);
}

afterEach(async () => {
  // A failed assertion must not leave a demo (and its bed) running; its janitor does the rest.
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  }
});

describe("npm run demo", () => {
  it("delivers verified webhooks, shows the subscription Ready with its counters, exits 0 and leaves nothing behind", async () => {
    const run = runDemo(["--exit-after-demo"]);
    const code = await run.exited;
    const out = run.output();
    expect({ code, tail: code === 0 ? "" : out.slice(-3000) }).toEqual({ code: 0, tail: "" });

    // The receiver verified a delivery of each event on a subscribed subject, and nothing else.
    const verified = [
      ...out.matchAll(/^\[receiver\] verified=yes id=(\S+) subject=(\S+) subscription=shop\/orders-basic /gm),
    ];
    expect(verified.map((m) => `${m[1]} ${m[2]}`).sort()).toEqual([
      "demo-1 shop.orders.created",
      "demo-2 shop.orders.o-1001.paid",
      "demo-3 shop.refunds.r-1001.issued",
    ]);
    expect(out).not.toMatch(/verified=no/);
    expect(out).not.toMatch(/^\[receiver\] .* id=unmatched-1 /m);

    expect(out).toMatch(/^\$ kubectl --kubeconfig \S+ get whs -n shop\n/m);
    expectReadyRow(out);

    expect(out).toMatch(/\[demo\] cleaned up\n/);
    await expectCleanedUp(run, 5);
  }, 240_000);

  it("without kubectl shows the same columns from the API, keeps running until Ctrl-C (SIGINT), then cleans up and exits 0", async () => {
    const run = runDemo([], { KUBECTL: "no-such-kubectl" });
    const deadline = Date.now() + 180_000;
    while (!run.output().includes("press Ctrl-C to stop")) {
      if (run.child.exitCode !== null)
        throw new Error(`the demo exited early:\n${run.output().slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`the demo did not get going:\n${run.output().slice(-3000)}`);
      await sleep(200);
    }
    expect(run.output()).toMatch(
      /\[demo\] no-such-kubectl is not installed; the same columns from the API:\n/,
    );
    expectReadyRow(run.output());
    // Still running well after the demo is done: it waits for the user.
    await sleep(2_000);
    expect(run.child.exitCode).toBeNull();
    expect(run.pids.size).toBe(5);
    expect([...run.pids].every(alive)).toBe(true);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    await expectCleanedUp(run, 5);
  }, 240_000);

  it("cleans up and exits 1 when something it started fails", async () => {
    // The operator reads its log level from the environment, and refuses this one at start.
    const run = runDemo(["--exit-after-demo"], { HOOKSTREAM_LOG_LEVEL: "chatty" });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/\[demo\] the operator exited unexpectedly \(code 2\)/);
    expect(run.output()).toMatch(/\[demo\] cleaned up\n/);
    await expectCleanedUp(run, 5);
  }, 240_000);
});
