// Starts the same test bed the integration tests use and keeps it up until Ctrl-C:
//   npm run testbed
// It prints KUBECONFIG=… and NATS_URL=… when ready, then cleans up everything on exit.
import { startBed } from "../test/bed/bed.js";

const bed = await startBed((msg) => console.error(`[testbed] ${msg}`));
console.log(`KUBECONFIG=${bed.kube.kubeconfig}`);
console.log(`NATS_URL=${bed.nats.url}`);
console.log(`HELM=${bed.bins.HELM}`);
console.log(`TESTBED_DIR=${bed.dir}`);
console.error("[testbed] ready; press Ctrl-C to stop and clean up");

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`[testbed] ${signal}: stopping`);
  bed.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error("[testbed] cleanup failed:", err);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
// Keep the event loop alive until a signal arrives.
setInterval(() => {}, 1 << 30);
