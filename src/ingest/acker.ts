import type { JsMsg } from "@nats-io/jetstream";

/** How long an ack may wait for company, and how many make a batch that goes at once. */
export const ACK_DELAY_MS = 5;
export const ACK_BATCH = 1024;

/**
 * Collects acks and sends them together: every few milliseconds, or at once when a batch is full.
 * Each flush is one socket write (the NATS client buffers what is sent in one turn), and on loopback
 * a write costs as much as tens of deliveries' worth of CPU, so batching per time rather than per
 * event-loop turn saves the pipeline's busiest thread real work. An ack's delay only shortens the
 * consumer's ack wait (30 s by default) by those milliseconds; deliveries are not delayed.
 */
export class AckBatcher {
  private pending: JsMsg[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delayMs = ACK_DELAY_MS,
    private readonly batch = ACK_BATCH,
  ) {}

  ack(m: JsMsg): void {
    this.pending.push(m);
    if (this.pending.length >= this.batch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const m of batch) m.ack();
  }
}
