import { readFileSync } from "node:fs";
import { VersionApi } from "@kubernetes/client-node";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Config } from "./config.js";
import { SubscriptionController } from "./controller/controller.js";
import { KubeEventRecorder } from "./controller/events.js";
import { loadKubeConfig } from "./controller/kubeconfig.js";
import { LeaderElector } from "./controller/leader.js";
import { ALLOW_ALL, parsePolicy } from "./controller/policy.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { HttpNotifier } from "./delivery/dispatcher.js";
import { WorkerNotifier } from "./delivery/worker-notifier.js";
import { DeliveryPipeline } from "./delivery/pipeline.js";
import { JetStreamRetryStore } from "./delivery/retry-store.js";
import { parseAllowList } from "./delivery/ssrf.js";
import { connectNats } from "./ingest/connect.js";
import { IngestRunner } from "./ingest/runner.js";
import { ensureStreams } from "./ingest/streams.js";
import { startHealthServer, type HealthServer } from "./observability/health.js";
import type { Logger } from "./observability/logger.js";
import { deliveryMetrics } from "./observability/delivery-metrics.js";
import { createRegistry, OperatorMetrics } from "./observability/metrics.js";
import { OutcomeAggregator } from "./status/aggregator.js";
import { kubeStatusPatcher } from "./status/patcher.js";
import { StatusWriter } from "./status/writer.js";

export interface RunningOperator {
  readonly health: HealthServer;
  readonly controller: SubscriptionController;
  readonly isLeader: () => boolean;
  readonly pipeline: DeliveryPipeline;
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

    // Delivery: only the leader pulls and delivers; a standby keeps its caches and table warm.
    const js = jetstream(nc);
    await ensureStreams(await jetstreamManager(nc), cfg.streams);
    const notifier =
      cfg.deliveryWorkers > 0
        ? new WorkerNotifier({
            workers: cfg.deliveryWorkers,
            allowCidrs: cfg.ssrfAllow,
            options: {},
            onWorkerError: (err) => log.error({ err }, "delivery worker failed; replacing it"),
          })
        : new HttpNotifier({ allowList: parseAllowList(cfg.ssrfAllow) });
    const delivered = deliveryMetrics(metrics);
    const pipeline = new DeliveryPipeline(
      ctl.table,
      notifier,
      new JetStreamRetryStore(nc, js, cfg.streams.retrySubjectPrefix, log),
      outcomes,
      delivered,
      log,
      {
        handoffMs: cfg.handoffMs,
        maxEventBytes: cfg.maxEventBytes,
        keepAliveMs: Math.max(500, cfg.streams.ackWaitMs / 3),
        subscriptionExists: (key: string) => ctl.get(key) !== undefined,
      },
      (key, message) => ctl.endpointDisabled(key, message),
    );
    ctl.onTable(() => pipeline.tableChanged());
    const runner = new IngestRunner(js, cfg.streams, pipeline, delivered, log);
    const startIngest = () =>
      runner.start().catch((err: unknown) => log.error({ err }, "could not start pulling events"));
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
              void startIngest();
            },
            onStoppedLeading: () => {
              leading = false;
              metrics.leader.set(0);
              ctl.setLeader(false);
              void runner.stop();
            },
          },
          log,
        )
      : undefined;
    // Shutdown order: stop pulling, finish or hand off in-flight work, flush acks, then status and
    // the lease (so the standby takes over at once), then (earlier closers) the caches and NATS.
    closers.push(async () => {
      await runner.stop();
      await pipeline.close(Math.min(5000, cfg.shutdownTimeoutMs / 2));
      runner.flushAcks();
      await notifier.close();
      await status.flush();
      await elector?.stop();
    });

    if (elector) {
      elector.start();
    } else {
      metrics.leader.set(1);
      ctl.setLeader(true);
      await startIngest();
    }
    return { health, controller: ctl, pipeline, isLeader: () => leading, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
