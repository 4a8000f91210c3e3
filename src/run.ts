import { readFileSync } from "node:fs";
import { VersionApi } from "@kubernetes/client-node";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Config } from "./config.js";
import { SubscriptionController } from "./controller/controller.js";
import { KubeEventRecorder } from "./controller/events.js";
import { loadKubeConfig } from "./controller/kubeconfig.js";
import { LeaderElector } from "./controller/leader.js";
import { ALLOW_ALL, parsePolicy } from "./controller/policy.js";
import { connectNats } from "./ingest/connect.js";
import { startHealthServer, type HealthServer } from "./observability/health.js";
import type { Logger } from "./observability/logger.js";
import { createRegistry, OperatorMetrics } from "./observability/metrics.js";
import { OutcomeAggregator } from "./status/aggregator.js";
import { kubeStatusPatcher } from "./status/patcher.js";
import { StatusWriter } from "./status/writer.js";

export interface RunningOperator {
  readonly health: HealthServer;
  readonly controller: SubscriptionController;
  readonly isLeader: () => boolean;
  /** Stops everything in reverse order of start; resolves when all is flushed and closed. */
  stop(): Promise<void>;
}

/** Wires the operator from its configuration. Throws (with context) when a dependency cannot be reached. */
export async function startOperator(cfg: Config, log: Logger): Promise<RunningOperator> {
  const registry = createRegistry();
  const metrics = new OperatorMetrics(registry);
  const policy = cfg.subjectPolicyFile
    ? parsePolicy(readFileSync(cfg.subjectPolicyFile, "utf8"), cfg.subjectPolicyFile)
    : ALLOW_ALL;
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
      nc = await connectNats(cfg.nats, log, metrics.natsConnectionEvents);
    } catch (err) {
      throw new Error(`cannot connect to NATS at ${cfg.nats.servers.join(", ")}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    closers.push(async () => {
      await nc.drain();
    });
    health.addReadinessCheck({ name: "nats", check: () => !nc.isClosed() && !nc.isDraining() });

    const outcomes = new OutcomeAggregator();
    const patchStatus = kubeStatusPatcher(kc);
    const status = new StatusWriter(
      (key, s) => {
        metrics.statusWrites.inc();
        return patchStatus(key, s);
      },
      (key) => outcomes.get(key),
      log,
      { minIntervalMs: cfg.statusIntervalMs },
    );
    outcomes.onChange((key) => status.markDirty(key));
    const ctl = new SubscriptionController(
      kc,
      {
        namespaces: cfg.namespaces,
        policy,
        resyncMs: cfg.resyncMs,
        reflector: { silenceMs: cfg.watchSilenceMs },
      },
      status,
      outcomes,
      new KubeEventRecorder(kc, log),
      {
        reconciles: (result) => metrics.reconciles.inc({ result }),
        tableBuilt: (routes, ms) => {
          metrics.routingTableRoutes.set(routes);
          metrics.routingTableBuildSeconds.observe(ms / 1000);
        },
      },
      log,
    );
    metrics.watchRestarts.reset();
    const refreshWatchMetrics = setInterval(() => {
      for (const { source, stats } of ctl.reflectorStats()) {
        for (const [kind, n] of Object.entries(stats) as [string, number][]) {
          metrics.watchRestarts.set({ source, kind }, n);
        }
      }
    }, 5000);
    refreshWatchMetrics.unref();
    closers.push(async () => {
      clearInterval(refreshWatchMetrics);
      await ctl.stop();
    });
    health.addReadinessCheck({ name: "kubernetes-cache", check: () => ctl.synced });
    await ctl.start();
    log.info({ routes: ctl.table.current().size }, "caches synced; routing table built");

    let leading = !cfg.leaderElection.enabled;
    const elector = cfg.leaderElection.enabled
      ? new LeaderElector(
          kc,
          cfg.leaderElection,
          {
            onStartedLeading: () => {
              leading = true;
              metrics.leader.set(1);
              ctl.setLeader(true);
            },
            onStoppedLeading: () => {
              leading = false;
              metrics.leader.set(0);
              ctl.setLeader(false);
            },
          },
          log,
        )
      : undefined;
    if (elector) {
      elector.start();
      closers.push(async () => {
        await status.flush();
        await elector.stop();
      });
    } else {
      metrics.leader.set(1);
      ctl.setLeader(true);
      closers.push(() => status.flush());
    }
    return { health, controller: ctl, isLeader: () => leading, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
