import { VersionApi } from "@kubernetes/client-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { Counter } from "prom-client";
import type { Config } from "./config.js";
import { loadKubeConfig } from "./controller/kubeconfig.js";
import { connectNats } from "./ingest/connect.js";
import { startHealthServer, type HealthServer } from "./observability/health.js";
import type { Logger } from "./observability/logger.js";
import { createRegistry } from "./observability/metrics.js";

export interface RunningOperator {
  readonly health: HealthServer;
  /** Stops everything in reverse order of start; resolves when all is flushed and closed. */
  stop(): Promise<void>;
}

/** Wires the operator from its configuration. Throws (with context) when a dependency cannot be reached. */
export async function startOperator(cfg: Config, log: Logger): Promise<RunningOperator> {
  const registry = createRegistry();
  const natsEvents = new Counter({
    name: "hookstream_nats_connection_events_total",
    help: "NATS connection status changes (disconnect, reconnect, error, ...)",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const health = await startHealthServer(cfg.healthHost, cfg.healthPort, registry, log);
  const closers: (() => Promise<void>)[] = [() => health.close()];
  const stop = async (): Promise<void> => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        log.warn({ err }, "error while shutting down");
      }
    }
  };
  try {
    const kc = loadKubeConfig(cfg.kubeconfig);
    const version = await kc.makeApiClient(VersionApi).getCode();
    log.info(
      { server: kc.getCurrentCluster()?.server, version: version.gitVersion },
      "connected to Kubernetes",
    );

    let nc: NatsConnection;
    try {
      nc = await connectNats(cfg.nats, log, natsEvents);
    } catch (err) {
      throw new Error(`cannot connect to NATS at ${cfg.nats.servers.join(", ")}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    closers.push(async () => {
      await nc.drain();
    });
    health.addReadinessCheck({ name: "nats", check: () => !nc.isClosed() && !nc.isDraining() });
  } catch (err) {
    await stop();
    throw err;
  }
  return { health, stop };
}
