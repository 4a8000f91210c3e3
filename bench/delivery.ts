/**
 * End-to-end delivery benchmark: JetStream in, signed webhooks out, durability on, 10,000
 * subscriptions in the routing table of which three match each event. Beside it, in the same run
 * and against the same nats-server and receiver, a naive pipeline (pull, POST with undici, ack).
 *
 *   node --import tsx bench/delivery.ts            (or: npm run bench:delivery)
 *
 * The operator's pipeline runs in this process; nats-server, the receiver and the publisher are
 * separate processes on the same 2-core machine. Kubernetes is not involved: the routing table is
 * built from resolved subscriptions, and status writes go to a counting patcher with the real
 * StatusWriter and its real 5 s interval, so the patch rate is the operator's.
 */
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Agent } from "undici";
import type * as ControllerPolicyModule from "../src/controller/policy.js";
import type * as ControllerResolveModule from "../src/controller/resolve.js";
import type * as DeliveryDispatcherModule from "../src/delivery/dispatcher.js";
import type * as DeliveryPipelineModule from "../src/delivery/pipeline.js";
import type * as DeliveryRetryStoreModule from "../src/delivery/retry-store.js";
import type * as DeliverySsrfModule from "../src/delivery/ssrf.js";
import type * as DeliveryWorkerNotifierModule from "../src/delivery/worker-notifier.js";
import type * as IngestRunnerModule from "../src/ingest/runner.js";
import type * as IngestStreamsModule from "../src/ingest/streams.js";
import type * as ObservabilityDeliveryMetricsModule from "../src/observability/delivery-metrics.js";
import type * as ObservabilityLoggerModule from "../src/observability/logger.js";
import type * as ObservabilityMetricsModule from "../src/observability/metrics.js";
import type * as RoutingIndexModule from "../src/routing/index.js";
import type * as SigningIndexModule from "../src/signing/index.js";
import type * as StatusAggregatorModule from "../src/status/aggregator.js";
import type * as StatusWriterModule from "../src/status/writer.js";
import type { WebhookSubscription } from "../src/api/types.js";
import type { ResolvedSubscription } from "../src/controller/resolve.js";
import type { StreamSettings } from "../src/ingest/streams.js";
import type { Route } from "../src/routing/index.js";
import { bedBinaries } from "../test/bed/binaries.js";
import { guardedTempDir } from "../test/bed/bed.js";
import { startNats } from "../test/bed/nats.js";
import { profiled } from "./lib/profile.js";

// The operator's code is measured as it ships: compiled by tsc and run by plain node, not through
// the tsx loader the benchmark script itself uses (its transform adds work to every closure).
const root = fileURLToPath(new URL("..", import.meta.url));
const built = spawnSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}tsconfig.build.json`],
  {
    stdio: "inherit",
  },
);
if (built.status !== 0) throw new Error("npm run build failed");
const dist = async <T>(module: string): Promise<T> => (await import(`${root}dist/${module}`)) as T;
const { ALLOW_ALL } = await dist<typeof ControllerPolicyModule>("controller/policy.js");
const { resolveSubscription } = await dist<typeof ControllerResolveModule>("controller/resolve.js");
const { HttpNotifier } = await dist<typeof DeliveryDispatcherModule>("delivery/dispatcher.js");
const { DeliveryPipeline } = await dist<typeof DeliveryPipelineModule>("delivery/pipeline.js");
const { JetStreamRetryStore } = await dist<typeof DeliveryRetryStoreModule>("delivery/retry-store.js");
const { parseAllowList } = await dist<typeof DeliverySsrfModule>("delivery/ssrf.js");
const { WorkerNotifier } = await dist<typeof DeliveryWorkerNotifierModule>("delivery/worker-notifier.js");
const { IngestRunner } = await dist<typeof IngestRunnerModule>("ingest/runner.js");
const { ensureStreams } = await dist<typeof IngestStreamsModule>("ingest/streams.js");
const { createLogger } = await dist<typeof ObservabilityLoggerModule>("observability/logger.js");
const { deliveryMetrics } = await dist<typeof ObservabilityDeliveryMetricsModule>(
  "observability/delivery-metrics.js",
);
const { OperatorMetrics, createRegistry } =
  await dist<typeof ObservabilityMetricsModule>("observability/metrics.js");
const { RoutingTable, RoutingTableHolder } = await dist<typeof RoutingIndexModule>("routing/index.js");
const { generateSecret } = await dist<typeof SigningIndexModule>("signing/index.js");
const { OutcomeAggregator } = await dist<typeof StatusAggregatorModule>("status/aggregator.js");
const { StatusWriter } = await dist<typeof StatusWriterModule>("status/writer.js");

// Before any of the operator's state exists: node, tsx and this harness (part of every RSS figure below).
const harnessRssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
const SUBSCRIPTIONS = 10_000;
const MATCHING = 3;
const BACKLOG_EVENTS = Number(process.env.BENCH_BACKLOG ?? 15_000);
const RATES = [1000, 5000, 10_000];
const PHASE_SECONDS = Number(process.env.BENCH_PHASE_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// As `hookstream run --delivery-workers` (its default is 1); 0 sends from the main thread.
const DELIVERY_WORKERS = Number(process.env.BENCH_DELIVERY_WORKERS ?? 1);
const here = fileURLToPath(new URL(".", import.meta.url));
const log = createLogger("warn");

function child(script: string, args: string[] = []): ChildProcess {
  return fork(`${here}lib/${script}`, args, {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}
/** The child's next message; fails (rather than waits for ever) if the child exits first. */
function once<T>(p: ChildProcess, what = "benchmark child"): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`${what} (pid ${p.pid}) exited with code ${code} signal ${signal}`));
    p.once("exit", onExit);
    p.once("message", (m) => {
      p.off("exit", onExit);
      resolve(m as T);
    });
  });
}
function ask<T>(p: ChildProcess, msg: object): Promise<T> {
  const answer = once<T>(p, "receiver");
  p.send(msg);
  return answer;
}
interface Report {
  count: number;
  first: number;
  last: number;
  p50: number;
  p99: number;
  max: number;
}

async function waitForCount(receiver: ChildProcess, target: number, timeoutMs: number): Promise<Report> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ask<Report>(receiver, { cmd: "report" });
    if (r.count >= target || Date.now() > deadline) return r;
    await sleep(100);
  }
}

function subscriptions(url: string): WebhookSubscription[] {
  const subs: WebhookSubscription[] = [];
  const hot = ["bench.hot.*", "bench.hot.>", "bench.*.*"];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const subject =
      i < MATCHING
        ? hot[i]!
        : i % 20 < 12
          ? `bench.s${i}.created`
          : i % 20 < 17
            ? `bench.s${i}.*`
            : `bench.s${i}.>`;
    subs.push({
      apiVersion: "hookstream.io/v1alpha1",
      kind: "WebhookSubscription",
      metadata: { name: `sub-${i}`, namespace: "bench", generation: 1, uid: `uid-${i}` },
      spec: {
        subjects: [subject],
        ...(i % 10 === 5 || i === 1 ? { filter: "data.total >= 0" } : {}),
        endpoint: { url },
        signing: { secretRef: { name: "bench-secret" } },
        delivery: { maxInFlight: 256 },
      },
    });
  }
  return subs;
}

const bins = await bedBinaries();
const { dir, cleanup } = guardedTempDir("hookstream-bench-");
const nats = await startNats(dir, bins.NATS_SERVER, "bench");
const receiver = child("receiver-proc.ts");
const { port } = await once<{ port: number }>(receiver, "receiver");
const url = `http://127.0.0.1:${port}/hook`;
const secretData = { secret: Buffer.from(generateSecret()).toString("base64") };

// The routing table: 10,000 resolved subscriptions, three of which match every published event.
const routes: Route<ResolvedSubscription>[] = [];
for (const obj of subscriptions(url)) {
  const v = resolveSubscription(obj, () => ({ data: secretData }), ALLOW_ALL, new Date());
  if (!v.ok) throw new Error(`${obj.metadata.name}: ${v.message}`);
  routes.push({
    key: v.sub.key,
    subjects: v.sub.spec.subjects,
    ...(v.sub.filter ? { filter: v.sub.filter } : {}),
    target: v.sub,
  });
}
const holder = new RoutingTableHolder<ResolvedSubscription>(RoutingTable.build(routes));

const nc = await connect({ servers: nats.url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const settings: StreamSettings = {
  stream: "BENCH",
  subjects: ["bench.>"],
  maxAgeMs: 3600_000,
  retention: "limits",
  consumer: "hookstream",
  ackWaitMs: 30_000,
  maxAckPending: 20_000,
  retryStream: "BENCH_RETRY",
  retrySubjectPrefix: "_bench.retry",
  replicas: 1,
};
await ensureStreams(jsm, settings);

// Status: the real writer (5 s per subscription at most) over a patcher that only counts.
const patches = new Map<string, number[]>();
const outcomes = new OutcomeAggregator();
const status = new StatusWriter(
  async (key) => {
    const times = patches.get(key) ?? [];
    times.push(Date.now());
    patches.set(key, times);
    return "ok";
  },
  (key) => outcomes.get(key),
  log,
);
outcomes.onChange((key) => {
  status.markDirty(key);
});
for (const r of routes.slice(0, MATCHING)) {
  status.setReady(r.key, {
    status: "True",
    reason: "Delivering",
    message: "",
    observedGeneration: 1,
    routes: 1,
  });
}
status.setEnabled(true);
const statusStarted = Date.now();

const notifier =
  DELIVERY_WORKERS > 0
    ? new WorkerNotifier({ workers: DELIVERY_WORKERS, allowCidrs: ["127.0.0.0/8"], options: {} })
    : new HttpNotifier({ allowList: parseAllowList(["127.0.0.0/8"]) });
// The operator's real metrics (prom-client registry), as `hookstream run` wires them.
const metrics = deliveryMetrics(new OperatorMetrics(createRegistry()));
const pipeline = new DeliveryPipeline(
  holder,
  notifier,
  new JetStreamRetryStore(nc, js, settings.retrySubjectPrefix, log),
  outcomes,
  metrics,
  log,
  {
    handoffMs: 2000,
    maxEventBytes: 1 << 20,
  },
);
const runner = new IngestRunner(js, settings, pipeline, metrics, log);

let peakRss = 0;
let atPeak: NodeJS.MemoryUsage | undefined;
// Off while the naive baseline runs in this process: its memory is not the operator's.
let sampling = true;
const rssTimer = setInterval(() => {
  if (!sampling) return;
  const m = process.memoryUsage();
  if (m.rss > peakRss) {
    peakRss = m.rss;
    atPeak = m;
  }
}, 200);
const mb = (n: number | undefined) => Math.round((n ?? 0) / 1024 / 1024);
console.log(`benchmark process before the operator's state: rss ${harnessRssMb} MB`);
console.log(
  `operator process after building the table: ${JSON.stringify(memoryMb(process.memoryUsage()))} MB`,
);
function memoryMb(m: NodeJS.MemoryUsage): Record<string, number> {
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external) };
}

async function publish(
  prefix: string,
  rate: number,
  total: number,
  idPrefix: string,
): Promise<{ sent: number; seconds: number }> {
  const p = child("publisher-proc.ts", [nats.url, prefix, "16", String(rate), String(total), idPrefix]);
  return once(p, "publisher");
}

// 1. Throughput on a backlog: hookstream, then the naive baseline (pull, POST, ack — nothing else —
// same NATS, same receiver, same POST count), in alternating rounds so that both see the machine in
// the same state; the figures are the medians of the rounds.
await jsm.streams.add({ name: "NAIVE", subjects: ["naive.>"] });
await jsm.consumers.add("NAIVE", {
  durable_name: "naive",
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  max_ack_pending: 20_000,
});
const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
const naiveConsumer = await js.consumers.get("NAIVE", "naive");

async function hookstreamBacklog(round: number): Promise<number> {
  await publish("bench", 0, BACKLOG_EVENTS, `backlog${round}`);
  await ask(receiver, { cmd: "reset" });
  const t0 = performance.timeOrigin + performance.now();
  const r = await profiled(round === 1 ? process.env.BENCH_CPU_PROFILE : undefined, async () => {
    await runner.start();
    return waitForCount(receiver, BACKLOG_EVENTS * MATCHING, 180_000);
  });
  await runner.stop();
  const perS = r.count / ((r.last - t0) / 1000);
  console.log(
    `round ${round} hookstream: ${BACKLOG_EVENTS} events x ${MATCHING} subscriptions = ${r.count} signed deliveries in ${((r.last - t0) / 1000).toFixed(2)} s: ${Math.round(perS)} deliveries/s; peak RSS so far ${mb(peakRss)} MB`,
  );
  return perS;
}

/** The naive pipeline, consuming until stopped: pull, POST, ack. */
async function startNaive(): Promise<{ done: () => number; stop: () => void }> {
  const msgs = await naiveConsumer.consume({ max_messages: 512 });
  let inflight = 0;
  let done = 0;
  void (async () => {
    for await (const m of msgs) {
      while (inflight >= 256) await sleep(0);
      inflight++;
      void agent
        .request({
          origin: `http://127.0.0.1:${port}`,
          path: "/hook",
          method: "POST",
          headers: { "content-type": "application/json" },
          body: m.data,
        })
        .then(async (res) => {
          await res.body.dump();
          m.ack();
        })
        .finally(() => {
          inflight--;
          done++;
        });
    }
  })();
  return { done: () => done, stop: () => msgs.stop() };
}

async function naiveBacklog(round: number): Promise<number> {
  const total = BACKLOG_EVENTS * MATCHING;
  await publish("naive", 0, total, `naive${round}`);
  await ask(receiver, { cmd: "reset" });
  const t0 = performance.timeOrigin + performance.now();
  const naive = await startNaive();
  const r = await waitForCount(receiver, total, 180_000);
  while (naive.done() < total) await sleep(10);
  naive.stop();
  const perS = r.count / ((r.last - t0) / 1000);
  console.log(
    `round ${round} naive pull/POST/ack: ${r.count} deliveries in ${((r.last - t0) / 1000).toFixed(2)} s: ${Math.round(perS)} deliveries/s`,
  );
  return perS;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
const hookstreamRounds: number[] = [];
const naiveRounds: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  hookstreamRounds.push(await hookstreamBacklog(round));
  sampling = false;
  naiveRounds.push(await naiveBacklog(round));
  sampling = true;
}
const deliveriesPerS = median(hookstreamRounds);
const naivePerS = median(naiveRounds);
console.log(
  `throughput, median of ${ROUNDS} rounds: hookstream ${Math.round(deliveriesPerS)} deliveries/s, naive ${Math.round(naivePerS)} deliveries/s`,
);
await runner.start();
let r: Report;

// 2. Latency at fixed offered rates.
const latency: Record<number, Report & { offered: number; achieved: number }> = {};
for (const rate of RATES) {
  await ask(receiver, { cmd: "reset" });
  const total = rate * PHASE_SECONDS;
  const pub = await publish("bench", rate, total, `rate${rate}`);
  r = await waitForCount(receiver, total * MATCHING, 60_000);
  latency[rate] = { ...r, offered: rate, achieved: pub.sent / pub.seconds };
  console.log(
    `offered ${rate} events/s (published ${Math.round(pub.sent / pub.seconds)}/s), ${MATCHING} deliveries each: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms, delivered ${r.count}/${total * MATCHING}; peak RSS so far ${mb(peakRss)} MB`,
  );
}
await runner.stop();
await pipeline.close(2000);

// The same offered delivery rates through the naive pipeline (one POST per event, so three times
// the events): what this machine allows any pipeline, for comparison with the figures above.
sampling = false;
const naive = await startNaive();
for (const rate of RATES) {
  await ask(receiver, { cmd: "reset" });
  const total = rate * PHASE_SECONDS * MATCHING;
  const pub = await publish("naive", rate * MATCHING, total, `naiverate${rate}`);
  const n = await waitForCount(receiver, total, 60_000);
  console.log(
    `naive at ${rate * MATCHING} deliveries/s offered (published ${Math.round(pub.sent / pub.seconds)}/s): p50 ${n.p50.toFixed(2)} ms, p99 ${n.p99.toFixed(2)} ms, delivered ${n.count}/${total}`,
  );
}
naive.stop();
// The bound to check: no subscription is patched more than 12 times in any 60 s window.
const statusMinutes = (Date.now() - statusStarted) / 60_000;
const busiestWindow = (times: number[]) =>
  Math.max(0, ...times.map((t, i) => times.slice(i).filter((u) => u < t + 60_000).length));
const patchesPerSubPerMin = Math.max(0, ...[...patches.values()].map(busiestWindow));
const maxPatches = Math.max(0, ...[...patches.values()].map((t) => t.length));
const minGapMs = Math.min(...[...patches.values()].flatMap((t) => t.slice(1).map((u, i) => u - t[i]!)));
await status.flush();
const rssMb = mb(peakRss);
if (atPeak) console.log(`operator process at its RSS peak: ${JSON.stringify(memoryMb(atPeak))} MB`);

clearInterval(rssTimer);

console.log(
  `operator process peak RSS: ${rssMb} MB; status patches: at most ${maxPatches} for one subscription in ${statusMinutes.toFixed(2)} min, shortest gap between two ${Math.round(minGapMs)} ms, busiest 60 s window ${patchesPerSubPerMin}`,
);
console.log(
  `summary deliveries_per_s=${Math.round(deliveriesPerS)} naive_per_s=${Math.round(naivePerS)} ratio=${(deliveriesPerS / naivePerS).toFixed(2)} p99_ms_at_5k=${latency[5000]?.p99.toFixed(2)} p99_ms_at_10k=${latency[10_000]?.p99.toFixed(2)} rss_mb=${rssMb} status_patches_per_sub_per_min=${patchesPerSubPerMin}`,
);

await agent.close();
await notifier.close();
status.stop();
await nc.close();
await ask(receiver, { cmd: "exit" }).catch(() => undefined);
await nats.process.stop();
await cleanup();
process.exit(0);
