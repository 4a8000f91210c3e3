import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface BedBinaries {
  KUBE_APISERVER: string;
  ETCD: string;
  NATS_SERVER: string;
  HELM: string;
  NATS_CLI: string;
}

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs hack/testbed-bins.sh (which builds on first use) and returns the four server paths. */
export function bedBinaries(): Promise<BedBinaries> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "bash",
      [`${REPO_ROOT}hack/testbed-bins.sh`],
      { maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) {
          reject(new Error(`hack/testbed-bins.sh failed: ${err.message}`));
          return;
        }
        const found: Record<string, string> = {};
        for (const line of stdout.split("\n")) {
          const m = /^([A-Z_]+)=(.+)$/.exec(line.trim());
          if (m?.[1] && m[2]) found[m[1]] = m[2];
        }
        for (const key of ["KUBE_APISERVER", "ETCD", "NATS_SERVER", "HELM", "NATS_CLI"]) {
          if (!found[key]) {
            reject(new Error(`hack/testbed-bins.sh printed no ${key}=`));
            return;
          }
        }
        resolve(found as unknown as BedBinaries);
      },
    );
    // The build can take many minutes the first time: let its progress through.
    child.stderr?.pipe(process.stderr);
  });
}
