import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { V1Container, V1Deployment, V1PolicyRule } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../bed/binaries.js";
import { bedEnv } from "../env.js";

export const CHART = join(REPO_ROOT, "charts", "hookstream");

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without throwing on a non-zero exit; `input` goes to its stdin. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** Like run, but a non-zero exit is an error carrying the command's output. */
export async function runOk(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return r.stdout;
}

/** The kubectl on PATH; the chart tests need it and fail (never skip) without it. */
export function kubectlBinary(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "kubectl");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    "kubectl is not on PATH: the chart tests send manifests to the test bed's API server with it. " +
      "Install kubectl (any version within the API server's skew policy) and run the tests again.",
  );
}

export function helmBinary(): string {
  return bedEnv("TEST_ASSET_HELM");
}

/** kubectl against the bed, with its own discovery cache (a CRD created by a test is seen at once). */
export class Kubectl {
  readonly bin = kubectlBinary();
  private readonly cacheDir = mkdtempSync(join(bedEnv("HOOKSTREAM_TEST_DIR"), "kubectl-cache-"));

  constructor(readonly kubeconfig = bedEnv("HOOKSTREAM_TEST_KUBECONFIG")) {}

  args(args: string[]): string[] {
    return [`--kubeconfig=${this.kubeconfig}`, `--cache-dir=${this.cacheDir}`, ...args];
  }

  run(args: string[], input?: string): Promise<RunResult> {
    return run(this.bin, this.args(args), input === undefined ? {} : { input });
  }

  ok(args: string[], input?: string): Promise<string> {
    return runOk(this.bin, this.args(args), input === undefined ? {} : { input });
  }

  /** Creates a namespace (labelled to enforce the restricted Pod Security Standard) unless it exists. */
  async namespace(name: string): Promise<void> {
    const doc = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    };
    await this.ok(
      ["apply", "--server-side", "--field-manager=hookstream-chart-test", "-f", "-"],
      JSON.stringify(doc),
    );
  }

  /** `kubectl auth can-i VERB RESOURCE` as the given ServiceAccount: true for yes, false for no. */
  async canI(sa: { namespace: string; name: string }, args: string[]): Promise<boolean> {
    const r = await this.run([
      "auth",
      "can-i",
      ...args,
      `--as=system:serviceaccount:${sa.namespace}:${sa.name}`,
    ]);
    const answer = r.stdout.trim();
    if (r.code === 0 && answer === "yes") return true;
    if (r.code === 1 && answer.startsWith("no")) return false;
    throw new Error(`kubectl auth can-i ${args.join(" ")}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
  }
}

/** A Kubernetes object as rendered by helm (only what the tests read is typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === "object");
}

/** `helm template` of the chart; throws with helm's message when rendering fails. */
export async function helmTemplate(
  release: string,
  namespace: string,
  args: string[] = [],
): Promise<{ text: string; objects: K8sObject[] }> {
  const text = await runOk(helmBinary(), ["template", release, CHART, "--namespace", namespace, ...args]);
  return { text, objects: parseManifests(text) };
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  }
  return found[0]!;
}

export function deploymentOf(objects: K8sObject[]): V1Deployment {
  return one(objects, "Deployment");
}

export function containerOf(objects: K8sObject[]): V1Container {
  const containers = deploymentOf(objects).spec?.template.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`expected one container, found ${containers.length}`);
  return containers[0]!;
}

export function envOf(objects: K8sObject[]): Map<string, NonNullable<V1Container["env"]>[number]> {
  return new Map((containerOf(objects).env ?? []).map((e) => [e.name, e]));
}

export function rulesOf(obj: K8sObject): V1PolicyRule[] {
  return (obj as unknown as { rules: V1PolicyRule[] }).rules;
}

/** The environment a pod would see: downward API and Secret references resolved to stand-in values. */
export function podEnvironment(
  objects: K8sObject[],
  namespace: string,
  podName = "hookstream-7d9f-abcde",
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, e] of envOf(objects)) {
    if (e.value !== undefined) env[name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[name] = namespace;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[name] = podName;
    else if (e.valueFrom?.secretKeyRef) env[name] = `from-secret-${e.valueFrom.secretKeyRef.key}`;
    else throw new Error(`env ${name}: no value the test knows how to resolve`);
  }
  return env;
}
