import { KubeConfig } from "@kubernetes/client-node";

/** An explicit file wins; then $KUBECONFIG/~/.kube/config; inside a pod, the in-cluster account. */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `no Kubernetes cluster configured${file ? ` in ${file}` : ""}: pass --kubeconfig or run inside a pod`,
    );
  }
  return kc;
}
