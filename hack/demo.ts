// The README's first command: `npm run demo`. Needs no cluster.
//
// 1. starts the test bed: etcd, kube-apiserver and nats-server on loopback ports, with the CRD
//    installed (the first run builds them from Go modules: several minutes, progress shown);
// 2. starts the example receiver (examples/receiver) with a freshly generated signing secret;
// 3. creates namespace shop, the signing Secret and examples/subscriptions/01-basic.yaml, pointed
//    at the receiver;
// 4. starts the operator (src/main.ts run) against the bed, creating a stream for "shop.>";
// 5. publishes a few events (examples/publish) and shows the receiver verifying each delivery;
// 6. shows `kubectl get whs -n shop` once the status counts the deliveries;
// then keeps everything up until Ctrl-C, or exits by itself with --exit-after-demo
// (--exit-after-ready is an older name for it). Whatever happens, everything it started is stopped
// and the bed's directory removed; even if this process is killed, the bed's janitor does it.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";
import { publishEvents, type PublishedEvent } from "../examples/publish/publish.js";
import { GROUP, PLURAL, VERSION, type WebhookSubscription } from "../src/api/types.js";
import { generateSecret } from "../src/signing/index.js";
import { startBed, type TestBed } from "../test/bed/bed.js";
import { REPO_ROOT } from "../test/bed/binaries.js";
import { applyRaw, type Manifest } from "../test/bed/crds.js";
import { freePort } from "../test/bed/process.js";

const NAMESPACE = "shop";
/** Published on subjects that examples/subscriptions/01-basic.yaml matches: one per kind of pattern. */
const MATCHING_SUBJECTS = ["shop.orders.created", "shop.orders.o-1001.paid", "shop.refunds.r-1001.issued"];
/** Matches none of its patterns, to show that such an event is not delivered. */
const UNMATCHED_SUBJECT = "shop.inventory.low";
/** The kubectl to run, as in other Kubernetes tooling; when it cannot be run, the API is asked instead. */
const KUBECTL = process.env.KUBECTL || "kubectl";

const USAGE = `usage: npm run demo [-- --exit-after-demo]

Starts a local Kubernetes API server and NATS (the test bed), the example receiver and the operator,
applies examples/subscriptions/01-basic.yaml, publishes a few events and shows them delivered.
  --exit-after-demo   stop and clean up after the demo instead of waiting for Ctrl-C
                      (--exit-after-ready is accepted as an alias)
Environment: KUBECTL, the kubectl to run (default kubectl; without one, the API is asked).`;

let options;
try {
  options = parseArgs({
    options: {
      "exit-after-demo": { type: "boolean" },
      "exit-after-ready": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (err) {
  console.error(`[demo] ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const exitAfterDemo = options["exit-after-demo"] === true || options["exit-after-ready"] === true;

const say = (msg: string): void => console.log(`[demo] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started registers how to stop it; shutdown() stops all in reverse order.

const cleanups: { what: string; run: () => Promise<void> }[] = [];
/** Aborted on shutdown, so that a wait in progress ends at once instead of timing out. */
const aborter = new AbortController();
let exiting = false;

async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  aborter.abort();
  say("cleaning up: stopping everything the demo started");
  for (const c of cleanups.reverse()) {
    try {
      await c.run();
    } catch (err) {
      console.error(`[demo] stopping ${c.what} failed: ${(err as Error).message}`);
    }
  }
  say("cleaned up");
  process.exit(code);
}

function onSignal(signal: NodeJS.Signals): void {
  if (exiting) {
    // A second Ctrl-C while cleaning up: leave now. The bed's janitor notices this process is gone
    // and stops every process listed in the bed's pids file (the receiver and operator included).
    console.error(`[demo] ${signal} again: exiting without waiting; the test bed's janitor cleans up`);
    process.exit(130);
  }
  say(`${signal} received`);
  void shutdown(0);
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

/** Fails with a message naming what did not happen; ends early when the demo shuts down. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = `; last error: ${(err as Error).message}`;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last}`);
    await sleep(200, undefined, { signal: aborter.signal });
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes (receiver, operator): run through tsx, output prefixed, stopped on shutdown.

interface Child {
  proc: ChildProcess;
  stop(): Promise<void>;
}

function startChild(
  bed: TestBed,
  name: string,
  args: string[],
  env: Record<string, string>,
  onLine: (line: string) => void,
  graceMs: number,
): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that Ctrl-C reaches only the demo, which then stops the operator
    // before the receiver (deliveries under way can finish) instead of everything at once.
    detached: true,
  });
  // Listed with the bed's servers: if the demo is killed, the bed's janitor stops this one too.
  if (proc.pid !== undefined) appendFileSync(join(bed.dir, "pids"), `${proc.pid}\n`);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", onLine);
  }
  proc.once("error", (err) => {
    console.error(`[demo] ${name} could not start: ${err.message}`);
    void shutdown(1);
  });
  void exited.then((code) => {
    if (exiting) return;
    console.error(`[demo] the ${name} exited unexpectedly (code ${code}); see its output above`);
    void shutdown(1);
  });
  return {
    proc,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** pino's JSON lines, shortened to "level message key=value ..." for a human watching the demo. */
function operatorLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `[operator] ${line}`;
  }
  const levels: Record<number, string> = {
    10: "TRACE",
    20: "DEBUG",
    30: "INFO",
    40: "WARN",
    50: "ERROR",
    60: "FATAL",
  };
  const { level, msg, time: _t, pid: _p, hostname: _h, app: _a, ...rest } = rec;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const text =
    `${levels[Number(level)] ?? String(level)} ${typeof msg === "string" ? msg : JSON.stringify(msg)} ${fields}`.trim();
  return `[operator] ${text.length > 240 ? `${text.slice(0, 240)}…` : text}`;
}

// ---------------------------------------------------------------------------------------------
// `kubectl get whs`, or the same columns from the API when kubectl is not installed.

function runKubectl(
  args: string[],
): Promise<{ ok: true; out: string } | { ok: false; missing: boolean; err: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (!err) resolve({ ok: true, out: stdout });
      else
        resolve({
          ok: false,
          missing: (err as NodeJS.ErrnoException).code === "ENOENT",
          err: stderr || err.message,
        });
    });
  });
}

function age(created: string | undefined): string {
  if (!created) return "<unknown>";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(created)) / 1000));
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

/** The printer columns of the CRD (src/api/schema.ts), laid out the way kubectl does. */
function whsTable(items: WebhookSubscription[]): string {
  const rows = [["NAME", "READY", "REASON", "ENDPOINT", "SUCCEEDED", "FAILED", "LAST CODE", "AGE"]];
  const none = (v: string | number | undefined): string => (v === undefined ? "<none>" : String(v));
  for (const o of items) {
    const ready = o.status?.conditions?.find((c) => c.type === "Ready");
    rows.push([
      none(o.metadata.name),
      none(ready?.status),
      none(ready?.reason),
      none(o.status?.endpointState),
      none(o.status?.deliveries?.succeeded),
      none(o.status?.deliveries?.failed),
      none(o.status?.lastAttempt?.statusCode),
      age(o.metadata.creationTimestamp),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("   ")
        .trimEnd(),
    )
    .join("\n");
}

// ---------------------------------------------------------------------------------------------

async function demo(): Promise<void> {
  say("1/6 starting the test bed: etcd, kube-apiserver and nats-server on loopback ports");
  say("    (the first run builds them from Go modules, which takes several minutes; progress follows)");
  const bed = await startBed((msg) => say(msg));
  // Registered before anything else can fail, so the bed is always stopped (and its directory removed).
  cleanups.push({ what: "the test bed", run: () => bed.stop() });
  // For scripts and tests: the bed lists the PIDs of every process the demo started in <dir>/pids.
  console.log(`TESTBED_DIR=${bed.dir}`);
  console.log(`KUBECONFIG=${bed.kube.kubeconfig}`);
  console.log(`NATS_URL=${bed.nats.url}`);

  say("2/6 starting the example receiver (examples/receiver/receiver.ts) with a new signing secret");
  const secret = generateSecret();
  const verified = new Set<string>();
  const rejected: string[] = [];
  let receiverPort: number | undefined;
  const receiver = startChild(
    bed,
    "receiver",
    ["examples/receiver/receiver.ts"],
    { PORT: "0", HOST: "127.0.0.1", WEBHOOK_SECRET: secret },
    (line) => {
      console.log(`[receiver] ${line}`);
      const listening = /^listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (listening) receiverPort = Number(listening[1]);
      const ok = /^verified=yes id=(\S+)/.exec(line);
      if (ok) verified.add(ok[1]!);
      if (line.startsWith("verified=no")) rejected.push(line);
    },
    5_000,
  );
  cleanups.push({ what: "the receiver", run: () => receiver.stop() });
  const port = await waitFor("the receiver to listen", async () => receiverPort, 30_000);

  say(`3/6 applying namespace ${NAMESPACE}, the signing Secret and examples/subscriptions/01-basic.yaml`);
  const namespace = parse(
    readFileSync(join(REPO_ROOT, "examples/secrets/00-namespace.yaml"), "utf8"),
  ) as Manifest;
  const sub = parse(
    readFileSync(join(REPO_ROOT, "examples/subscriptions/01-basic.yaml"), "utf8"),
  ) as WebhookSubscription;
  const name = sub.metadata.name!;
  // The example points at an in-cluster Service; here the receiver is on this machine.
  sub.spec.endpoint.url = `http://127.0.0.1:${port}/hooks`;
  const secretRef = sub.spec.signing!.secretRef;
  const signingSecret: Manifest = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretRef.name, namespace: NAMESPACE },
    type: "Opaque",
    stringData: { [secretRef.key ?? "secret"]: secret },
  };
  await applyRaw(bed.kube, [namespace, signingSecret, sub as unknown as Manifest]);
  say(
    `    subscription ${NAMESPACE}/${name}: subjects ${sub.spec.subjects.join(", ")} -> ${sub.spec.endpoint.url}`,
  );

  say("4/6 starting the operator (src/main.ts run)");
  const healthPort = await freePort();
  const operatorArgs = [
    "src/main.ts",
    "run",
    "--kubeconfig",
    bed.kube.kubeconfig,
    "--nats-url",
    bed.nats.url,
    "--health-addr",
    `127.0.0.1:${healthPort}`,
    "--namespaces",
    NAMESPACE,
    // The receiver is on loopback, which the SSRF guard refuses unless allowed.
    "--ssrf-allow-cidrs",
    "127.0.0.0/8",
    // Creates the JetStream stream for the shop's events (in a cluster it often exists already).
    "--stream-subjects",
    "shop.>",
    // Status at most every second (default 5 s), so the counters below show up quickly.
    "--status-interval",
    "1s",
    // Short: on Ctrl-C the terminal stops the bed's servers too, and a NATS drain that cannot
    // finish would otherwise hold the cleanup for the default 25 s. Nothing is lost: unacked
    // events stay in JetStream (and the bed is thrown away anyway).
    "--shutdown-timeout",
    "3s",
  ];
  say(`    node --import tsx ${operatorArgs.join(" ")}`);
  const operator = startChild(
    bed,
    "operator",
    operatorArgs,
    {},
    (line) => console.log(operatorLine(line)),
    8_000,
  );
  cleanups.push({ what: "the operator", run: () => operator.stop() });
  await waitFor(
    "the operator's /readyz",
    async () => ((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok ? true : undefined),
    60_000,
  );
  const kc = new KubeConfig();
  kc.loadFromFile(bed.kube.kubeconfig);
  const api = kc.makeApiClient(CustomObjectsApi);
  const getSub = async (): Promise<WebhookSubscription> =>
    (await api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      name,
    })) as WebhookSubscription;
  await waitFor(
    `${name} to be Ready`,
    async () =>
      (await getSub()).status?.conditions?.find((c) => c.type === "Ready")?.status === "True"
        ? true
        : undefined,
    30_000,
  );
  say(`    operator ready (metrics: http://127.0.0.1:${healthPort}/metrics); ${name} is Ready`);

  say(
    "5/6 publishing events (the same as examples/publish/publish.ts; with the NATS CLI: examples/publish/nats-cli.md)",
  );
  say(
    `    NATS_URL=${bed.nats.url} node --import tsx examples/publish/publish.ts --id-prefix demo ${MATCHING_SUBJECTS.join(" ")}`,
  );
  const show = (e: PublishedEvent): void =>
    say(`    published id=${e.id} subject=${e.subject} stream=${e.stream} seq=${e.seq}`);
  const published = await publishEvents({
    url: bed.nats.url,
    subjects: MATCHING_SUBJECTS,
    count: 1,
    idPrefix: "demo",
    onPublished: show,
  });
  await publishEvents({
    url: bed.nats.url,
    subjects: [UNMATCHED_SUBJECT],
    count: 1,
    idPrefix: "unmatched",
    onPublished: show,
  });
  say(`    (${UNMATCHED_SUBJECT} matches none of the subscription's subjects: it is not delivered)`);
  await waitFor(
    "the receiver to verify every delivery",
    async () => {
      if (rejected.length > 0) throw new Error(`the receiver rejected a delivery: ${rejected[0]}`);
      return published.every((e) => verified.has(e.id)) ? true : undefined;
    },
    30_000,
  );
  say(
    `    the receiver verified every delivery: ${published.map((e) => e.id).join(", ")} (its verified=yes lines above)`,
  );

  say(
    `6/6 waiting for the status to count them (written at most every second), then: kubectl get whs -n ${NAMESPACE}`,
  );
  await waitFor(
    "the status to count the deliveries",
    async () => ((await getSub()).status?.deliveries?.succeeded ?? 0) >= published.length || undefined,
    30_000,
  );
  const kubectlArgs = ["--kubeconfig", bed.kube.kubeconfig, "get", "whs", "-n", NAMESPACE];
  console.log(`$ kubectl ${kubectlArgs.join(" ")}`);
  const got = await runKubectl(kubectlArgs);
  if (got.ok) {
    process.stdout.write(got.out);
  } else {
    say(
      got.missing
        ? `${KUBECTL} is not installed; the same columns from the API:`
        : `${KUBECTL} failed (${got.err.trim()}); the same columns from the API:`,
    );
    const list = (await api.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
    })) as {
      items: WebhookSubscription[];
    };
    console.log(whsTable(list.items));
  }
  say("demo done");

  if (exitAfterDemo) return;
  say("everything keeps running; in another terminal, try:");
  console.log(`  export KUBECONFIG=${bed.kube.kubeconfig} NATS_URL=${bed.nats.url}`);
  console.log(`  kubectl get whs -n ${NAMESPACE} -w`);
  console.log(`  kubectl get whs ${name} -n ${NAMESPACE} -o yaml`);
  console.log(`  node --import tsx examples/publish/publish.ts -n 5 shop.orders.created`);
  console.log(
    `  nats pub shop.orders.created '{"total":120}' -H Nats-Msg-Id:order-1 -H Content-Type:application/json   # needs the NATS CLI`,
  );
  say("press Ctrl-C to stop and clean up");
}

demo().then(
  () => {
    if (exiting) return;
    if (exitAfterDemo) void shutdown(0);
    // Otherwise stay up until a signal arrives (the timer only keeps the event loop alive).
    else setInterval(() => {}, 1 << 30);
  },
  (err: unknown) => {
    // Once shutting down, aborted waits reject on purpose; the cause has been reported already.
    if (exiting) return;
    console.error(`[demo] failed: ${(err as Error).message}`);
    void shutdown(1);
  },
);
