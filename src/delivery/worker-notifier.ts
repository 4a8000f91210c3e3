import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { parseAllowList } from "./ssrf.js";
import type { HttpNotifierOptions, Notifier, SendResult, WebhookRequest } from "./dispatcher.js";

/** What a delivery worker is started with: everything it needs to build its own HttpNotifier. */
export interface WorkerInit {
  /** CIDRs the SSRF guard lets through (the parsed form does not cross threads). */
  allowCidrs: string[];
  options: Omit<HttpNotifierOptions, "allowList">;
}
export type ToWorker = { t: "send"; batch: [number, WebhookRequest][] } | { t: "close" };
export type FromWorker = { t: "done"; results: [number, SendResult][] } | { t: "closed" };

export interface WorkerNotifierOptions extends WorkerInit {
  /** Delivery threads (at least 1). */
  workers: number;
  /** Told when a worker thread fails and is replaced. */
  onWorkerError?: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Failed and not yet replaced: gets no requests. */
  dead: boolean;
  pending: Map<number, (r: SendResult) => void>;
  outbox: [number, WebhookRequest][];
  scheduled: boolean;
}

/**
 * Sends webhooks from worker threads, each with its own HttpNotifier: the HTTP work (request
 * writing, response parsing, TLS) moves off the thread that pulls, routes and acks, so a second
 * core delivers too. Requests are batched to a worker once per event-loop turn; each goes to the
 * worker with the fewest in flight. A worker that dies fails its requests as retryable errors
 * (their retries are durable, as for any failed attempt) and is replaced.
 */
export class WorkerNotifier implements Notifier {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;

  constructor(opts: WorkerNotifierOptions) {
    // Bad settings fail here, on the caller's thread, not as a worker that dies at every start.
    parseAllowList(opts.allowCidrs);
    const n = Math.max(1, Math.floor(opts.workers));
    const perWorker = Math.max(1, Math.ceil((opts.options.connectionsPerOrigin ?? 64) / n));
    for (let i = 0; i < n; i++) {
      this.slots.push(this.spawn({ ...opts, options: { ...opts.options, connectionsPerOrigin: perWorker } }));
    }
  }

  send(req: WebhookRequest): Promise<SendResult> {
    const slot = this.closing ? undefined : this.pick();
    if (!slot) {
      return Promise.resolve({
        kind: "error",
        code: "EWORKER",
        message: this.closing ? "delivery workers are closed" : "no delivery worker is running",
        durationMs: 0,
      });
    }
    const id = this.nextId++;
    // Exactly the body's bytes: a view into a larger buffer would clone all of that buffer.
    const wire: WebhookRequest = {
      url: req.url,
      headers: req.headers,
      body: compact(req.body),
      timeoutMs: req.timeoutMs,
    };
    if (req.tls) wire.tls = req.tls;
    if (req.sign) wire.sign = { ...req.sign, keys: req.sign.keys.map(compact) };
    return new Promise<SendResult>((resolve) => {
      slot.pending.set(id, resolve);
      slot.outbox.push([id, wire]);
      if (!slot.scheduled) {
        slot.scheduled = true;
        setImmediate(() => this.flush(slot));
      }
    });
  }

  /** Lets each worker close its pools (up to 5 s), then stops it; anything still pending fails. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot.dead) {
          this.flush(slot);
          const exited = new Promise<void>((resolve) => slot.worker.once("exit", () => resolve()));
          slot.worker.on("message", (m: FromWorker) => {
            if (m.t === "closed") void slot.worker.terminate();
          });
          slot.worker.postMessage({ t: "close" } satisfies ToWorker);
          const stuck = setTimeout(() => void slot.worker.terminate(), 5000);
          await exited;
          clearTimeout(stuck);
        }
        this.failAll(slot, "delivery worker closed");
      }),
    );
  }

  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (!s.dead && (!best || s.pending.size < best.pending.size)) best = s;
    }
    return best;
  }

  private flush(slot: Slot): void {
    slot.scheduled = false;
    if (slot.outbox.length === 0) return;
    const batch = slot.outbox;
    slot.outbox = [];
    slot.worker.postMessage({ t: "send", batch } satisfies ToWorker);
  }

  private spawn(init: WorkerInit & { onWorkerError?: (err: Error) => void }): Slot {
    const slot: Slot = {
      worker: startWorker({ allowCidrs: init.allowCidrs, options: init.options }),
      dead: false,
      pending: new Map(),
      outbox: [],
      scheduled: false,
    };
    slot.worker.on("message", (m: FromWorker) => {
      if (m.t !== "done") return;
      for (const [id, result] of m.results) {
        const resolve = slot.pending.get(id);
        if (resolve) {
          slot.pending.delete(id);
          resolve(result);
        }
      }
    });
    const replace = (err: Error) => {
      if (this.closing || slot.dead) return;
      slot.dead = true;
      init.onWorkerError?.(err);
      this.failAll(slot, `delivery worker failed: ${err.message}`);
      void slot.worker.terminate();
      // A second later, so a worker that cannot start does not spin.
      setTimeout(() => {
        const i = this.slots.indexOf(slot);
        if (!this.closing && i >= 0) this.slots[i] = this.spawn(init);
      }, 1000).unref();
    };
    slot.worker.on("error", replace);
    slot.worker.on("exit", (code) => replace(new Error(`exited with code ${code}`)));
    return slot;
  }

  private failAll(slot: Slot, message: string): void {
    for (const resolve of slot.pending.values()) {
      resolve({ kind: "error", code: "EWORKER", message, durationMs: 0 });
    }
    slot.pending.clear();
    slot.outbox = [];
  }
}

/**
 * Bytes that own their whole ArrayBuffer as they are, others copied: structured cloning a view clones
 * all of the buffer behind it (for a small Buffer, Node's whole 8 KiB pool slab).
 */
function compact(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
}

/** The compiled worker next to this file; from TypeScript sources (tests, tsx) through tsx's loader. */
function startWorker(workerData: WorkerInit): Worker {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return new Worker(new URL("./notifier-worker.js", self), { workerData });
  // tsx's ESM entry (its CommonJS one cannot register the loader inside a worker).
  const api = pathToFileURL(
    createRequire(self)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  ).href;
  const entry = new URL("./notifier-worker.ts", self).href;
  const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(self)}))`;
  return new Worker(code, { eval: true, workerData });
}
