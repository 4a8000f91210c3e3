import type { JsMsg } from "@nats-io/jetstream";

/**
 * Collects acks and sends them together once per event-loop turn: the NATS client then writes them
 * to the socket in one go instead of one write per message.
 */
export class AckBatcher {
  private pending: JsMsg[] = [];
  private scheduled = false;

  ack(m: JsMsg): void {
    this.pending.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const m of batch) m.ack();
  }
}
