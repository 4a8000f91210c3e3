// Benchmark publisher, its own process: publishes to JetStream at a fixed offered rate (or as fast
// as it can), with a publish timestamp in each body and a Nats-Msg-Id per event.
// argv: natsUrl subjectPrefix hotSubjects(count) rate(events/s, 0 = as fast as possible) total idPrefix
import { jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";

const [url = "", prefix = "", hotArg = "1", rateArg = "0", totalArg = "0", idPrefix = "e"] =
  process.argv.slice(2);
const hot = Number(hotArg);
const rate = Number(rateArg);
const total = Number(totalArg);
const nc = await connect({ servers: url });
const js = jetstream(nc);
const pad = "x".repeat(200);
const now = () => performance.timeOrigin + performance.now();

let sent = 0;
const inflight = new Set<Promise<unknown>>();
const MAX_INFLIGHT = 2000;
const started = now();
while (sent < total) {
  if (rate > 0) {
    // Paced: publish what the schedule says is due by now.
    const due = Math.floor(((now() - started) / 1000) * rate);
    if (sent >= due) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
  }
  while (inflight.size >= MAX_INFLIGHT) await Promise.race(inflight);
  const i = sent++;
  const h = headers();
  h.set("Nats-Msg-Id", `${idPrefix}-${i}`);
  h.set("Content-Type", "application/json");
  const body = JSON.stringify({ ts: now(), i, total: i % 500, pad });
  const p = js.publish(`${prefix}.hot.${i % hot}`, body, { headers: h }).finally(() => inflight.delete(p));
  inflight.add(p);
}
await Promise.all(inflight);
process.send?.({ sent, seconds: (now() - started) / 1000 });
await nc.close();
process.exit(0);

// Never outlive the benchmark that started this process.
process.on("disconnect", () => process.exit(0));
