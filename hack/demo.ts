// The README's first command: `npm run demo`.
// Starts the test bed (etcd, kube-apiserver, NATS; built from Go modules the first time), installs
// the CRD, runs the operator against it and keeps everything up until Ctrl-C, then cleans up.
import { spawn } from "node:child_process";
import { startBed } from "../test/bed/bed.js";
import { REPO_ROOT } from "../test/bed/binaries.js";
import { freePort } from "../test/bed/process.js";

const args = process.argv.slice(2);
const once = args.includes("--exit-after-ready");

console.error(
  "[demo] starting the test bed (the first run builds kube-apiserver, etcd, nats-server and helm: several minutes)",
);
const bed = await startBed((msg) => console.error(`[demo] ${msg}`));
const healthPort = await freePort();
const operator = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "src/main.ts",
    "run",
    "--kubeconfig",
    bed.kube.kubeconfig,
    "--nats-url",
    bed.nats.url,
    "--health-addr",
    `127.0.0.1:${healthPort}`,
  ],
  { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit"] },
);

async function ready(): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
    if (res?.ok) return true;
    if (operator.exitCode !== null) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (operator.exitCode === null) {
      const exited = new Promise((r) => operator.once("exit", r));
      operator.kill("SIGTERM");
      await exited;
    }
    await bed.stop();
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
operator.once("exit", (code) => {
  if (!stopping) {
    console.error(`[demo] the operator exited with code ${code}`);
    void stop(1);
  }
});

if (!(await ready())) {
  console.error("[demo] the operator did not become ready");
  await stop(1);
}
console.log(`[demo] operator ready: metrics http://127.0.0.1:${healthPort}/metrics`);
console.log(`[demo] try: kubectl --kubeconfig ${bed.kube.kubeconfig} get whs -A`);
console.log(`[demo]      NATS_URL=${bed.nats.url}`);
if (once) await stop(0);
console.log("[demo] press Ctrl-C to stop and clean up");
setInterval(() => {}, 1 << 30);
