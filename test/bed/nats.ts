import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Agent, request } from "undici";
import { freePort, startProcess, waitUntil, type BedProcess } from "./process.js";

export interface NatsBed {
  url: string;
  port: number;
  monitorPort: number;
  process: BedProcess;
}

/**
 * Starts nats-server with JetStream on random loopback ports and its own store. Passing the port and
 * store of an earlier instance restarts "the same" server (for restart tests).
 */
export async function startNats(
  dir: string,
  bin: string,
  name = "nats",
  reuse?: { port: number; monitorPort: number },
): Promise<NatsBed> {
  const store = join(dir, `${name}-store`);
  mkdirSync(store, { recursive: true });
  const port = reuse?.port ?? (await freePort());
  const monitorPort = reuse?.monitorPort ?? (await freePort());
  const proc = startProcess(dir, name, bin, [
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    "-m",
    String(monitorPort),
    "-js",
    "-sd",
    store,
    "-n",
    `testbed-${name}`,
  ]);
  const health = `http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`;
  // A private agent, closed right after: pooled keep-alive sockets would hold the test runner open.
  const agent = new Agent();
  try {
    await waitUntil(proc, "nats-server /healthz", async () => {
      const res = await request(health, { dispatcher: agent });
      await res.body.dump();
      return res.statusCode === 200;
    });
  } finally {
    await agent.close();
  }
  return { url: `nats://127.0.0.1:${port}`, port, monitorPort, process: proc };
}
