import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bedBinaries, REPO_ROOT, type BedBinaries } from "./binaries.js";
import { installCrds } from "./crds.js";
import { startKube, type KubeBed } from "./kube.js";
import { startNats, type NatsBed } from "./nats.js";

export interface TestBed {
  dir: string;
  bins: BedBinaries;
  kube: KubeBed;
  nats: NatsBed;
  /** What tests read from their environment to find this bed. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A temporary directory guarded by hack/lib/janitor.sh: if this process dies without calling
 * cleanup (SIGKILL, crash), the janitor stops every server listed in DIR/pids and removes DIR.
 */
export function guardedTempDir(prefix: string): { dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const janitor = spawn("bash", [`${REPO_ROOT}hack/lib/janitor.sh`, String(process.pid), dir], {
    stdio: "ignore",
  });
  const gone = new Promise<void>((resolve) => janitor.once("exit", () => resolve()));
  return {
    dir,
    cleanup: async () => {
      janitor.kill("SIGTERM");
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBed(log: (msg: string) => void = () => {}): Promise<TestBed> {
  const bins = await bedBinaries();
  const { dir, cleanup } = guardedTempDir("hookstream-bed-");
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => {});
    await cleanup();
  };
  try {
    const started = Date.now();
    const [kube, nats] = await Promise.all([startKube(dir, bins), startNats(dir, bins.NATS_SERVER)]);
    stoppers.push(...kube.processes.map((p) => () => p.stop()), () => nats.process.stop());
    const crds = await installCrds(kube, join(REPO_ROOT, "crds"));
    log(`test bed up in ${Date.now() - started} ms: ${kube.url}, ${nats.url}, CRDs ${crds.join(", ")}`);
    return {
      dir,
      bins,
      kube,
      nats,
      env: {
        HOOKSTREAM_TEST_KUBECONFIG: kube.kubeconfig,
        HOOKSTREAM_TEST_NATS_URL: nats.url,
        HOOKSTREAM_TEST_DIR: dir,
        HOOKSTREAM_TEST_ETCD_URL: kube.etcdUrl,
        TEST_ASSET_KUBE_APISERVER: bins.KUBE_APISERVER,
        TEST_ASSET_ETCD: bins.ETCD,
        TEST_ASSET_NATS_SERVER: bins.NATS_SERVER,
        TEST_ASSET_HELM: bins.HELM,
        TEST_ASSET_NATS_CLI: bins.NATS_CLI,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
