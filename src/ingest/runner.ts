import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { DeliveryPipeline } from "../delivery/pipeline.js";
import { H } from "../delivery/retry-store.js";
import type { Logger } from "../observability/logger.js";
import { AckBatcher } from "./acker.js";
import { ingest, type IngestedEvent } from "./event.js";
import type { StreamSettings } from "./streams.js";

export interface IngestMetrics {
  pulled(kind: "event" | "retry"): void;
  lag(kind: "event" | "retry", pending: number): void;
}

/** The longest delay a single NAK asks for; a longer wait simply takes several redeliveries. */
const MAX_NAK_MS = 60 * 60 * 1000;

/**
 * Pulls events and retry tasks from their durable consumers and feeds the pipeline. Acks go out
 * in batches (once per event-loop turn). Only the leader runs this.
 */
export class IngestRunner {
  private readonly acker = new AckBatcher();
  private readonly loops: Promise<void>[] = [];
  private readonly subs: ConsumerMessages[] = [];
  private lagTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly settings: StreamSettings,
    private readonly pipeline: DeliveryPipeline,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
    private readonly maxBusy = 4096,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const events = await this.js.consumers.get(this.settings.stream, this.settings.consumer);
    const retries = await this.js.consumers.get(this.settings.retryStream, `${this.settings.consumer}-retry`);
    const eventMsgs = await events.consume({ max_messages: 512 });
    const retryMsgs = await retries.consume({ max_messages: 256 });
    this.subs.push(eventMsgs, retryMsgs);
    this.loops.push(this.loop(eventMsgs, "event", (m) => this.onEvent(m)));
    this.loops.push(this.loop(retryMsgs, "retry", (m) => this.onRetry(m)));
    this.lagTimer = setInterval(() => {
      void events.info(true).then(
        (i) => this.metrics.lag("event", i.num_pending + i.num_ack_pending),
        () => undefined,
      );
      void retries.info(true).then(
        (i) => this.metrics.lag("retry", i.num_pending + i.num_ack_pending),
        () => undefined,
      );
    }, 5000);
    this.lagTimer.unref();
    this.log.info(
      {
        stream: this.settings.stream,
        consumer: this.settings.consumer,
        retryStream: this.settings.retryStream,
      },
      "pulling events",
    );
  }

  /** Stops pulling; what was pulled and not settled is redelivered by JetStream after its ack wait. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.lagTimer) clearInterval(this.lagTimer);
    for (const s of this.subs.splice(0)) s.stop();
    await Promise.all(this.loops.splice(0));
    this.acker.flush();
  }

  flushAcks(): void {
    this.acker.flush();
  }

  private async loop(
    msgs: ConsumerMessages,
    kind: "event" | "retry",
    handle: (m: JsMsg) => void,
  ): Promise<void> {
    try {
      for await (const m of msgs) {
        this.metrics.pulled(kind);
        try {
          handle(m);
        } catch (err) {
          // Never lose an event to a bug: leave it for redelivery and say so loudly.
          this.log.error(
            { err, subject: m.subject, seq: m.seq },
            `could not handle ${kind}; it will be redelivered`,
          );
          m.nak(5000);
        }
        // Backpressure: while too much is in memory, stop taking more (JetStream keeps the rest).
        while (this.pipeline.busy > this.maxBusy && this.running) await new Promise((r) => setTimeout(r, 20));
      }
    } catch (err) {
      if (this.running) this.log.error({ err, kind }, "consumer loop ended unexpectedly");
    }
  }

  private onEvent(m: JsMsg): void {
    const event = ingest(m);
    this.pipeline.onEvent(event, (ok) => {
      if (ok) this.acker.ack(m);
      else m.nak(1000);
    });
  }

  private onRetry(m: JsMsg): void {
    const h = m.headers;
    const subscription = h?.get(H.subscription) ?? "";
    const attempt = Number(h?.get(H.attempt));
    const due = Number(h?.get(H.due));
    let headers: Record<string, string> = {};
    try {
      headers = JSON.parse(h?.get(H.eventHeaders) || "{}") as Record<string, string>;
    } catch {
      headers = {};
    }
    if (!subscription || !Number.isInteger(attempt) || attempt < 1 || !Number.isFinite(due)) {
      this.log.error({ seq: m.seq, subscription }, "malformed retry task: dropped");
      m.term("malformed retry task");
      return;
    }
    const event: IngestedEvent = {
      id: h?.get(H.eventId) ?? "",
      subject: h?.get(H.eventSubject) ?? "",
      headers,
      payload: new Uint8Array(m.data),
      time: new Date(Number(h?.get(H.eventTime)) || Date.now()),
      stream: h?.get(H.eventStream) ?? "",
      seq: Number(h?.get(H.eventSeq)) || 0,
    };
    this.pipeline.onRetry(
      { subscription, event, attempt, due },
      () => this.acker.ack(m),
      (delayMs) => m.nak(Math.min(MAX_NAK_MS, Math.max(1, Math.round(delayMs)))),
      () => m.working(),
    );
  }
}
