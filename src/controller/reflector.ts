import { Watch, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.js";

/** The least a Kubernetes object must have for the cache. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface ReflectorSource<T extends KubeObject> {
  /** For logs and metrics, e.g. "webhooksubscriptions". */
  name: string;
  list(opts: { limit: number; continueToken?: string }): Promise<ListPage<T>>;
  /** Collection path for watches, e.g. /apis/hookstream.io/v1alpha1/webhooksubscriptions. */
  watchPath: string;
  /** Extra watch query parameters, e.g. a fieldSelector; must match the list's. */
  watchQuery?: Record<string, string>;
}

export type ChangeType = "added" | "modified" | "deleted";
export type ChangeHandler<T> = (type: ChangeType, obj: T, old: T | undefined) => void;

export interface ReflectorOptions {
  /** A watch with no event (bookmarks included) for this long is presumed dead: relist. */
  silenceMs?: number;
  /** Server-side watch timeout; undefined lets the client pick 5-10 minutes at random, as client-go does. */
  watchTimeoutSeconds?: number | null;
  pageSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  relistsAfterGone: number;
  relistsAfterSilence: number;
  errors: number;
}

export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? "");
}

interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T & { code?: number; message?: string; reason?: string };
}

/**
 * List, then watch from the list's resourceVersion, forever: the watcher/reflector half of an informer
 * (kube-rs' split). It resumes a closed watch from the last seen resourceVersion, relists on 410 Gone,
 * backs off with jitter on errors, and relists when a watch goes silent (a dead connection that never
 * closes). After every (re)list it reconciles the cache against the list and reports the differences,
 * so handlers see a level-consistent stream of changes.
 */
export class Reflector<T extends KubeObject> {
  readonly store = new Map<string, T>();
  readonly stats: ReflectorStats = {
    lists: 0,
    watches: 0,
    relistsAfterGone: 0,
    relistsAfterSilence: 0,
    errors: 0,
  };
  private readonly handlers: ChangeHandler<T>[] = [];
  private resourceVersion = "";
  private stopped = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private abortWatch: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private lastEventAt = 0;
  private readonly silenceMs: number;
  private readonly opts: ReflectorOptions;

  constructor(
    private readonly kc: KubeConfig,
    private readonly source: ReflectorSource<T>,
    private readonly log: Logger,
    opts: ReflectorOptions = {},
  ) {
    this.opts = opts;
    this.silenceMs = opts.silenceMs ?? 180_000;
  }

  onChange(handler: ChangeHandler<T>): void {
    this.handlers.push(handler);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Runs until stop(); never throws. */
  async run(): Promise<void> {
    let backoff = this.opts.minBackoffMs ?? 500;
    const maxBackoff = this.opts.maxBackoffMs ?? 30_000;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const outcome = await this.watchOnce();
        backoff = this.opts.minBackoffMs ?? 500;
        if (outcome === "gone") {
          this.stats.relistsAfterGone++;
          needList = true;
        } else if (outcome === "silent") {
          this.stats.relistsAfterSilence++;
          this.log.warn(
            { source: this.source.name, silenceMs: this.silenceMs },
            "watch went silent; relisting",
          );
          needList = true;
        }
      } catch (err) {
        if (this.stopped) break;
        this.stats.errors++;
        const code =
          (err as { code?: number; statusCode?: number }).code ?? (err as { statusCode?: number }).statusCode;
        if (code === 410) {
          this.stats.relistsAfterGone++;
          needList = true;
          continue;
        }
        const wait = Math.round(backoff * (0.8 + Math.random() * 0.4));
        this.log.warn({ source: this.source.name, err, retryInMs: wait }, "list/watch failed; retrying");
        await this.sleep(wait);
        backoff = Math.min(maxBackoff, backoff * 2);
        // After an error the position may be stale; a 410 on the next watch sends us back to list.
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.abortWatch?.();
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async relist(): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let rv = "";
    do {
      const page = await this.source.list({ limit: this.opts.pageSize ?? 500, continueToken });
      items.push(...page.items);
      continueToken = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (continueToken);
    this.stats.lists++;
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      if (!old) this.emit("added", item, undefined);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        this.emit("modified", item, old);
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit("deleted", old, old);
      }
    }
    this.resourceVersion = rv;
    this.log.debug({ source: this.source.name, items: items.length, resourceVersion: rv }, "listed");
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private emit(type: ChangeType, obj: T, old: T | undefined): void {
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (err) {
        this.log.error({ err, source: this.source.name }, "change handler failed");
      }
    }
  }

  /** One watch connection; resolves with why it ended. */
  private watchOnce(): Promise<"closed" | "gone" | "silent" | "stopped"> {
    return new Promise((resolve, reject) => {
      const timeout =
        this.opts.watchTimeoutSeconds === null
          ? undefined
          : (this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300));
      const query: Record<string, string | number | boolean> = {
        ...this.source.watchQuery,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
      };
      if (timeout !== undefined) query.timeoutSeconds = timeout;
      let ended = false;
      let outcome: "closed" | "gone" | "silent" | "stopped" = "closed";
      let controller: AbortController | undefined;
      this.lastEventAt = Date.now();
      const watchdog = setInterval(
        () => {
          if (Date.now() - this.lastEventAt > this.silenceMs) {
            outcome = "silent";
            controller?.abort();
            finish(null);
          }
        },
        Math.max(50, Math.min(5000, this.silenceMs / 4)),
      );
      const finish = (err: unknown) => {
        if (ended) return;
        ended = true;
        clearInterval(watchdog);
        this.abortWatch = undefined;
        if (this.stopped) resolve("stopped");
        else if (err && outcome === "closed")
          reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        else resolve(outcome);
      };
      this.abortWatch = () => {
        outcome = "stopped";
        controller?.abort();
        finish(null);
      };
      this.stats.watches++;
      new Watch(this.kc)
        .watch(
          this.source.watchPath,
          query,
          (phase: string, obj: T, raw: WatchEvent<T>) => {
            if (ended) return;
            this.lastEventAt = Date.now();
            this.onWatchEvent(raw ?? { type: phase as WatchEvent<T>["type"], object: obj }, (why) => {
              outcome = why;
              controller?.abort();
              finish(null);
            });
          },
          (err: unknown) => finish(err),
        )
        .then(
          (c) => {
            controller = c;
            if (ended) c.abort();
          },
          (err: unknown) => finish(err),
        );
    });
  }

  private onWatchEvent(ev: WatchEvent<T>, end: (why: "gone") => void): void {
    const obj = ev.object;
    if (ev.type === "ERROR") {
      // A 410 means our resourceVersion is older than etcd's compaction window: only a relist helps.
      if (obj.code === 410) end("gone");
      else this.log.warn({ source: this.source.name, status: obj }, "watch error event");
      return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (ev.type === "BOOKMARK") return;
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (ev.type === "DELETED") {
      this.store.delete(key);
      this.emit("deleted", obj, old);
    } else {
      this.store.set(key, obj);
      this.emit(old ? "modified" : "added", obj, old);
    }
  }
}
