// Benchmark receiver, run as its own process so it does not share the operator's event loop.
// Answers 204 at once; records publish-to-receipt latency from the `ts` field of each JSON body.
// Talks to its parent over IPC: {cmd:"reset"} starts a phase, {cmd:"report"} returns its figures.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

let count = 0;
let latencies: number[] = [];
let first = 0;
let last = 0;
const now = () => performance.timeOrigin + performance.now();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const t = now();
    count++;
    if (first === 0) first = t;
    last = t;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { ts?: number };
      if (typeof body.ts === "number") latencies.push(t - body.ts);
    } catch {
      // Not a benchmark event: count it, no latency.
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});

process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "reset") {
    count = 0;
    latencies = [];
    first = 0;
    last = 0;
    process.send?.({ ok: true });
  } else if (m.cmd === "report") {
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    process.send?.({ count, first, last, p50: q(0.5), p99: q(0.99), max: latencies.at(-1) ?? 0 });
  } else if (m.cmd === "exit") {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  }
});

// Never outlive the benchmark that started this process.
process.on("disconnect", () => process.exit(0));
