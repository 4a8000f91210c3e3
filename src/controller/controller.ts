import type { KubeConfig, V1Secret } from "@kubernetes/client-node";
import type { WebhookSubscription } from "../api/types.js";
import type { Logger } from "../observability/logger.js";
import { RoutingTable, RoutingTableHolder, type Route } from "../routing/index.js";
import type { OutcomeAggregator } from "../status/aggregator.js";
import type { ReadyState, StatusWriter, SubscriptionStatus } from "../status/writer.js";
import type { EventRecorder } from "./events.js";
import { ALLOW_ALL, type SubjectPolicy } from "./policy.js";
import { Reflector, objectKey, type ReflectorOptions, type ReflectorStats } from "./reflector.js";
import { referencedSecrets, resolveSubscription, REASONS, type ResolvedSubscription } from "./resolve.js";
import { secretSources, subscriptionSources } from "./sources.js";
import { WorkQueue } from "./workqueue.js";

export type SubscriptionRoute = Route<ResolvedSubscription>;

export interface ControllerOptions {
  namespaces: string[];
  policy?: SubjectPolicy;
  /** Every key is reconciled again this often, even without changes (default 10 min). */
  resyncMs?: number;
  reflector?: ReflectorOptions;
  /** Coalesces route changes that arrive together into one table build (default 20 ms). */
  rebuildDelayMs?: number;
}

export interface ControllerMetrics {
  reconciles(result: "ok" | "error" | "rejected"): void;
  tableBuilt(routes: number, ms: number): void;
}

/**
 * Watches WebhookSubscriptions and the Secrets they reference, reconciles each changed subscription
 * (level-based: from the cache, never from the event), and publishes an immutable routing table.
 * Only the leader writes status and Events; every replica keeps its cache and table warm.
 */
export class SubscriptionController {
  readonly table = new RoutingTableHolder<ResolvedSubscription>(RoutingTable.empty());
  private readonly subs: Reflector<WebhookSubscription>[];
  private readonly secrets: Reflector<V1Secret>[];
  private readonly queue = new WorkQueue();
  private readonly routes = new Map<string, SubscriptionRoute>();
  /** "namespace/secretName" -> subscription keys that read it. */
  private readonly secretUsers = new Map<string, Set<string>>();
  private readonly usesSecrets = new Map<string, string[]>();
  private readonly lastReason = new Map<string, string>();
  private readonly pendingReady = new Map<string, ReadyState>();
  private readonly tableListeners: ((table: RoutingTable<ResolvedSubscription>) => void)[] = [];
  private rebuildTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private running: Promise<unknown>[] = [];
  private leader = false;
  private readonly policy: SubjectPolicy;

  constructor(
    kc: KubeConfig,
    private readonly opts: ControllerOptions,
    private readonly status: StatusWriter,
    private readonly outcomes: OutcomeAggregator,
    private readonly events: EventRecorder,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
  ) {
    this.policy = opts.policy ?? ALLOW_ALL;
    this.subs = subscriptionSources(kc, opts.namespaces).map(
      (s) => new Reflector(kc, s, log, opts.reflector),
    );
    this.secrets = secretSources(kc, opts.namespaces).map((s) => new Reflector(kc, s, log, opts.reflector));
    for (const r of this.subs) r.onChange((_type, obj) => this.queue.add(objectKey(obj)));
    for (const r of this.secrets) {
      r.onChange((_type, secret) => {
        for (const key of this.secretUsers.get(objectKey(secret)) ?? []) this.queue.add(key);
      });
    }
  }

  onTable(listener: (table: RoutingTable<ResolvedSubscription>) => void): void {
    this.tableListeners.push(listener);
  }

  get synced(): boolean {
    return [...this.subs, ...this.secrets].every((r) => r.hasSynced);
  }

  /** Starts watching; resolves when the caches are filled and the first table is built. */
  async start(workers = 2): Promise<void> {
    const reflectors = [...this.subs, ...this.secrets];
    this.running.push(...reflectors.map((r) => r.run()));
    await Promise.all(reflectors.map((r) => r.waitForSync()));
    for (let i = 0; i < workers; i++) this.running.push(this.worker());
    const resyncMs = this.opts.resyncMs ?? 600_000;
    this.resyncTimer = setInterval(() => {
      for (const r of this.subs) for (const key of r.store.keys()) this.queue.add(key);
    }, resyncMs);
    this.resyncTimer.unref();
    // Wait for the initial reconcile of everything listed, so the first table is complete.
    // Idle, not merely empty: a key a worker has just taken is not reconciled yet (it was a race
    // that started ingest on an empty table, and events pulled meanwhile matched nothing).
    while (!this.queue.idle) await new Promise((r) => setTimeout(r, 10));
    await this.rebuildNow();
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    for (const r of [...this.subs, ...this.secrets]) r.stop();
    this.queue.shutDown();
    await Promise.all(this.running);
  }

  setLeader(leader: boolean): void {
    this.leader = leader;
    this.status.setEnabled(leader);
  }

  /** The cached subscription, for tests and diagnostics. */
  get(key: string): WebhookSubscription | undefined {
    for (const r of this.subs) {
      const obj = r.store.get(key);
      if (obj) return obj;
    }
    return undefined;
  }

  reflectorStats(): { source: string; stats: ReflectorStats }[] {
    return [...this.subs, ...this.secrets].map((r, i) => ({
      source: i < this.subs.length ? `subscriptions-${i}` : `secrets-${i - this.subs.length}`,
      stats: r.stats,
    }));
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        this.reconcile(key);
        this.queue.forget(key);
      } catch (err) {
        this.metrics.reconciles("error");
        const delay = this.queue.addRateLimited(key);
        this.log.error({ subscription: key, err, retryInMs: delay }, "reconcile failed");
      } finally {
        this.queue.done(key);
      }
    }
  }

  private findSecret = (namespace: string, name: string): V1Secret | undefined => {
    const key = `${namespace}/${name}`;
    for (const r of this.secrets) {
      const s = r.store.get(key);
      if (s) return s;
    }
    return undefined;
  };

  /** Level-based: reads the current cached state of `key` and makes routes and status match it. */
  private reconcile(key: string): void {
    const obj = this.get(key);
    if (!obj || obj.metadata.deletionTimestamp) {
      this.setSecretUse(key, []);
      if (this.routes.delete(key)) this.scheduleRebuild();
      this.status.forget(key);
      this.outcomes.forget(key);
      this.lastReason.delete(key);
      this.log.info({ subscription: key }, "subscription removed; routes dropped");
      return;
    }
    const verdict = resolveSubscription(obj, this.findSecret, this.policy, new Date());
    const generation = obj.metadata.generation ?? 0;
    this.status.observe(key, obj.status as SubscriptionStatus | undefined);
    this.outcomes.seed(key, obj.status as never);
    if (verdict.ok) {
      const sub = verdict.sub;
      this.setSecretUse(key, referencedSecrets(sub.spec));
      const route: SubscriptionRoute = { key, subjects: sub.spec.subjects, target: sub };
      const withFilter: SubscriptionRoute = sub.filter ? { ...route, filter: sub.filter } : route;
      this.routes.set(key, withFilter);
      this.scheduleRebuild();
      const paused = verdict.reason === REASONS.paused;
      this.setReadyAfterRebuild(key, {
        status: paused ? "False" : "True",
        reason: paused ? REASONS.paused : "Delivering",
        message: verdict.message,
        observedGeneration: generation,
        routes: sub.spec.subjects.length,
        ...(paused ? { endpointState: "Paused" as const } : {}),
      });
      this.metrics.reconciles("ok");
    } else {
      this.setSecretUse(key, verdict.secretNames);
      if (this.routes.delete(key)) this.scheduleRebuild();
      this.setReadyAfterRebuild(key, {
        status: "False",
        reason: verdict.reason,
        message: verdict.message,
        observedGeneration: generation,
        routes: 0,
      });
      this.metrics.reconciles("rejected");
    }
    this.recordTransition(
      obj,
      verdict.ok ? (verdict.reason === REASONS.paused ? REASONS.paused : REASONS.accepted) : verdict.reason,
      verdict.message,
    );
  }

  /** The delivery side disabled an endpoint (410 Gone): tell the user through an Event. */
  endpointDisabled(key: string, message: string): void {
    const obj = this.get(key);
    this.lastReason.set(key, "EndpointDisabled");
    if (obj && this.leader) this.events.record(obj, "Warning", "EndpointDisabled", message);
  }

  private recordTransition(obj: WebhookSubscription, reason: string, message: string): void {
    const key = objectKey(obj);
    const previous = this.lastReason.get(key);
    if (previous === reason) return;
    this.lastReason.set(key, reason);
    const good = reason === REASONS.accepted || reason === REASONS.paused;
    this.log.info(
      { subscription: key, reason, message },
      good ? "subscription accepted" : "subscription not ready",
    );
    if (!this.leader) return;
    if (good) {
      const recovered =
        previous !== undefined && previous !== REASONS.accepted && previous !== REASONS.paused;
      this.events.record(obj, "Normal", recovered ? "Recovered" : reason, message);
    } else {
      this.events.record(obj, "Warning", reason, message);
    }
  }

  private setSecretUse(key: string, names: string[]): void {
    const namespace = key.split("/")[0] ?? "";
    for (const old of this.usesSecrets.get(key) ?? [])
      this.secretUsers.get(`${namespace}/${old}`)?.delete(key);
    for (const name of names) {
      const k = `${namespace}/${name}`;
      let set = this.secretUsers.get(k);
      if (!set) this.secretUsers.set(k, (set = new Set()));
      set.add(key);
    }
    this.usesSecrets.set(key, names);
  }

  private scheduleRebuild(): void {
    if (this.rebuildTimer) return;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      void this.rebuildNow();
    }, this.opts.rebuildDelayMs ?? 20);
  }

  /**
   * Ready is reported only once the routing table reflects the verdict: a user who sees Ready=True
   * and publishes at once must not have the event miss a route that is still being built.
   */
  private setReadyAfterRebuild(key: string, ready: ReadyState): void {
    this.pendingReady.set(key, ready);
    this.scheduleRebuild();
  }

  private async rebuildNow(): Promise<void> {
    const started = performance.now();
    const ready = [...this.pendingReady];
    this.pendingReady.clear();
    const table = RoutingTable.build([...this.routes.values()]);
    this.table.swap(table);
    for (const [key, state] of ready) if (this.get(key)) this.status.setReady(key, state);
    const ms = performance.now() - started;
    this.metrics.tableBuilt(table.size, ms);
    this.log.debug(
      { routes: table.size, version: table.version, ms: Math.round(ms * 10) / 10 },
      "routing table rebuilt",
    );
    for (const l of this.tableListeners) l(table);
  }
}
