import { KubeConfig } from "@kubernetes/client-node";

/** Reads what the global setup put in the environment; fails loudly when run without it. */
export function bedEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: integration tests run under the test bed's global setup`);
  return value;
}

export function bedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(bedEnv("HOOKSTREAM_TEST_KUBECONFIG"));
  return kc;
}

/** A fresh namespace name per test, so tests never see each other's objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
