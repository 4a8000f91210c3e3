/**
 * A delivery worker thread: runs an HttpNotifier (undici pools, SSRF guard, timeouts) for the
 * WorkerNotifier on the main thread. Requests arrive in batches and results go back in batches,
 * one message per event-loop turn each way.
 */
import { parentPort, workerData } from "node:worker_threads";
import { HttpNotifier, type SendResult } from "./dispatcher.js";
import { parseAllowList } from "./ssrf.js";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-notifier.js";

const port = parentPort;
if (!port) throw new Error("notifier-worker must run in a worker thread");
const init = workerData as WorkerInit;
const notifier = new HttpNotifier({ ...init.options, allowList: parseAllowList(init.allowCidrs) });

let results: [number, SendResult][] = [];
let scheduled = false;
function flush(): void {
  scheduled = false;
  const batch = results;
  results = [];
  port?.postMessage({ t: "done", results: batch } satisfies FromWorker);
}

port.on("message", (m: ToWorker) => {
  if (m.t === "send") {
    for (const [id, req] of m.batch) {
      void notifier.send(req).then((res) => {
        results.push([id, res]);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    }
  } else {
    void notifier.close().then(() => port.postMessage({ t: "closed" } satisfies FromWorker));
  }
});
