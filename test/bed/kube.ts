import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent, request } from "undici";
import { stringify } from "yaml";
import { freePort, startProcess, waitUntil, type BedProcess } from "./process.js";

export interface KubeBed {
  url: string;
  kubeconfig: string;
  token: string;
  caFile: string;
  etcdUrl: string;
  processes: BedProcess[];
}

export interface KubeBedOptions {
  /** Extra kube-apiserver flags, e.g. a short --min-request-timeout to force watch timeouts. */
  apiServerArgs?: string[];
  /** Reuse a running etcd (a second API server over the same store). */
  etcdUrl?: string;
}

/** Starts etcd (unless given) and kube-apiserver the way envtest does, and writes an admin kubeconfig. */
export async function startKube(
  dir: string,
  bins: { ETCD: string; KUBE_APISERVER: string },
  opts: KubeBedOptions = {},
  name = "kube",
): Promise<KubeBed> {
  const processes: BedProcess[] = [];
  let etcdUrl = opts.etcdUrl;
  if (!etcdUrl) {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = startProcess(dir, "etcd", bins.ETCD, [
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ]);
    processes.push(etcd);
    const healthUrl = `${etcdUrl}/health`;
    const agent = new Agent();
    try {
      await waitUntil(etcd, "etcd /health", async () => {
        const res = await request(healthUrl, { dispatcher: agent });
        await res.body.dump();
        return res.statusCode === 200;
      });
    } finally {
      await agent.close();
    }
  }

  const kdir = join(dir, name);
  mkdirSync(join(kdir, "certs"), { recursive: true });
  const token = randomBytes(24).toString("hex");
  writeFileSync(join(kdir, "tokens.csv"), `${token},admin,admin-uid,system:masters\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(kdir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(join(kdir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));

  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const apiserver = startProcess(dir, `${name}-apiserver`, bins.KUBE_APISERVER, [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${join(kdir, "certs")}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--authorization-mode=RBAC",
    `--token-auth-file=${join(kdir, "tokens.csv")}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${join(kdir, "sa.pub")}`,
    `--service-account-signing-key-file=${join(kdir, "sa.key")}`,
    "--disable-admission-plugins=ServiceAccount",
    // The loopback advertise address is fine for a bed but not for the kubernetes Service endpoints.
    "--endpoint-reconciler-type=none",
    ...(opts.apiServerArgs ?? []),
  ]);
  processes.push(apiserver);
  // kube-apiserver writes a self-signed serving certificate and its CA into --cert-dir at start.
  const caFile = join(kdir, "certs", "apiserver.crt");
  let agent: Agent | undefined;
  await waitUntil(
    apiserver,
    "kube-apiserver /readyz",
    async () => {
      agent ??= new Agent({ connect: { ca: readFileSync(caFile) } });
      const res = await request(`${url}/readyz`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}` },
      });
      await res.body.dump();
      return res.statusCode === 200;
    },
    120_000,
  );
  await agent?.close();

  const kubeconfig = join(kdir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "testbed", cluster: { server: url, "certificate-authority": caFile } }],
      users: [{ name: "admin", user: { token } }],
      contexts: [{ name: "testbed", context: { cluster: "testbed", user: "admin", namespace: "default" } }],
      "current-context": "testbed",
    }),
    { mode: 0o600 },
  );
  return { url, kubeconfig, token, caFile, etcdUrl, processes };
}
