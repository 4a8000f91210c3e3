import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.js";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease stays valid without renewal (the standby waits this long after the last renewal). */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long (shorter than the lease duration). */
  renewDeadlineMs?: number;
  /** How often both the leader renews and the standby tries to acquire. */
  retryPeriodMs?: number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: optimistic concurrency on the
 * Lease's resourceVersion, and expiry judged by the local clock from when this process last saw the
 * record change (never by comparing our clock with the holder's renewTime, so clock skew is harmless).
 */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observedRecord = "";
  private observedAt = 0;
  private lastRenewAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderElectionOptions,
    private readonly callbacks: LeaderCallbacks,
    private readonly log: Logger,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.leaseDurationMs = opts.leaseDurationMs ?? 10_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 7_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.setLeading(false);
      await this.release().catch((err: unknown) =>
        this.log.warn({ err }, "could not release the leader lease"),
      );
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const acquired = await this.tryAcquireOrRenew();
      if (acquired) this.lastRenewAt = Date.now();
      this.setLeading(acquired);
    } catch (err) {
      this.log.warn({ err: errorText(err) }, "leader election: lease update failed");
      if (this.leading && Date.now() - this.lastRenewAt > this.renewDeadlineMs) this.setLeading(false);
    }
    if (this.leading && Date.now() - this.lastRenewAt > this.renewDeadlineMs) this.setLeading(false);
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.retryPeriodMs);
      this.timer.unref();
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    const lease = `${this.opts.namespace}/${this.opts.name}`;
    if (leading) {
      this.log.info({ lease, identity: this.opts.identity }, "became leader");
      this.callbacks.onStartedLeading();
    } else {
      this.log.warn({ lease, identity: this.opts.identity }, "stopped leading");
      this.callbacks.onStoppedLeading();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = new V1MicroTime();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      await this.api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ""}|${String(spec.renewTime)}|${lease.metadata?.resourceVersion}`;
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = Date.now();
    }
    const holder = spec.holderIdentity ?? "";
    const heldByOther = holder !== "" && holder !== identity;
    const validMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && Date.now() < this.observedAt + validMs) return false;
    const takingOver = holder !== identity;
    lease.spec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: takingOver ? now : spec.acquireTime,
      renewTime: now,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== "" ? 1 : 0),
    };
    // replace carries the resourceVersion we read: if another replica wrote in between, we get a 409.
    await this.api.replaceNamespacedLease({ name, namespace, body: lease });
    return true;
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    lease.spec.holderIdentity = "";
    lease.spec.renewTime = new V1MicroTime();
    lease.spec.leaseDurationSeconds = 1;
    await this.api.replaceNamespacedLease({ name, namespace, body: lease });
  }
}

function errorText(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  return e.code
    ? `HTTP ${e.code}: ${typeof e.body === "string" ? e.body.slice(0, 300) : e.message}`
    : String(e.message ?? err);
}
