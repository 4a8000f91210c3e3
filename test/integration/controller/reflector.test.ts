import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { KubeConfig } from "@kubernetes/client-node";
import type { WebhookSubscription } from "../../../src/api/types.js";
import { Reflector, type ReflectorOptions } from "../../../src/controller/reflector.js";
import { subscriptionSources } from "../../../src/controller/sources.js";
import { createLogger } from "../../../src/observability/logger.js";
import { guardedTempDir } from "../../bed/bed.js";
import { startKube, type KubeBed } from "../../bed/kube.js";
import { bedEnv, bedKubeConfig } from "../env.js";
import { KubeHelper, simpleSpec } from "../helpers/kube.js";
import { waitFor } from "../helpers/wait.js";

const log = createLogger("silent");

function reflectorFor(
  kc: KubeConfig,
  namespace: string,
  opts: ReflectorOptions,
): Reflector<WebhookSubscription> {
  // The operator's own source for one namespace: the same list and watch the controller uses.
  const [source] = subscriptionSources(kc, [namespace]);
  return new Reflector<WebhookSubscription>(kc, source!, log, opts);
}

describe("reflector against a kube-apiserver that times watches out every few seconds", () => {
  // A second API server over the bed's etcd, with watch timeouts shortened by a flag
  // (--min-request-timeout: the server ends each watch after 2-4 s) instead of waiting minutes.
  let shortBed: KubeBed;
  let cleanup: () => Promise<void>;
  const k = new KubeHelper();

  beforeAll(async () => {
    const dir = guardedTempDir("hookstream-short-");
    cleanup = dir.cleanup;
    shortBed = await startKube(
      dir.dir,
      { ETCD: bedEnv("TEST_ASSET_ETCD"), KUBE_APISERVER: bedEnv("TEST_ASSET_KUBE_APISERVER") },
      { etcdUrl: bedEnv("HOOKSTREAM_TEST_ETCD_URL"), apiServerArgs: ["--min-request-timeout=2"] },
      "short",
    );
  }, 120_000);
  afterAll(async () => {
    for (const p of shortBed?.processes ?? []) await p.stop();
    await cleanup?.();
  });

  it("resumes each timed-out watch from its resourceVersion, without relisting, and misses nothing", async () => {
    const ns = await k.namespace("watch");
    const kc = new KubeConfig();
    kc.loadFromFile(shortBed.kubeconfig);
    // null: no client timeout, so the server's shortened default applies.
    const r = reflectorFor(kc, ns, { watchTimeoutSeconds: null, silenceMs: 60_000 });
    const running = r.run();
    await r.waitForSync();
    for (let i = 0; i < 6; i++) {
      await k.createSubscription(ns, `s${i}`, simpleSpec());
      await sleep(1500);
    }
    await waitFor("all six cached", () => r.store.size === 6);
    r.stop();
    await running;
    expect(r.stats.watches).toBeGreaterThanOrEqual(3); // the server ended several watches
    expect(r.stats.lists).toBe(1); // and each was resumed, not relisted
    expect(r.stats.relistsAfterGone).toBe(0);
    expect([...r.store.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${ns}/s${i}`));
  }, 60_000);
});

describe("reflector watchdog and idle connections (main test bed)", () => {
  const k = new KubeHelper();

  it("relists when a watch stays silent longer than the watchdog allows, keeping the cache right", async () => {
    const ns = await k.namespace("silent");
    await k.createSubscription(ns, "before", simpleSpec());
    const r = reflectorFor(bedKubeConfig(), ns, { silenceMs: 1000 });
    const running = r.run();
    await r.waitForSync();
    await waitFor("a relist after silence", () => r.stats.relistsAfterSilence >= 1, 10_000);
    await k.createSubscription(ns, "after", simpleSpec());
    await waitFor("the new object", () => r.store.has(`${ns}/after`));
    r.stop();
    await running;
    expect(r.stats.lists).toBeGreaterThanOrEqual(2);
    expect(r.store.size).toBe(2);
  }, 30_000);

  it("keeps one healthy watch open through 65 idle seconds (no client-side abort at 30 s)", async () => {
    const ns = await k.namespace("idle");
    const r = reflectorFor(bedKubeConfig(), ns, { silenceMs: 180_000, watchTimeoutSeconds: 600 });
    const running = r.run();
    await r.waitForSync();
    await sleep(65_000);
    const started = Date.now();
    await k.createSubscription(ns, "late", simpleSpec());
    await waitFor("event after idling", () => r.store.has(`${ns}/late`), 5000, 10);
    const latency = Date.now() - started;
    r.stop();
    await running;
    expect(r.stats.watches).toBe(1);
    expect(r.stats.errors).toBe(0);
    expect(r.stats.lists).toBe(1);
    expect(latency).toBeLessThan(1000);
  }, 120_000);
});
