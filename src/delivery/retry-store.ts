import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../observability/logger.js";
import type { DeliveryTask, RetryStore } from "./task.js";

export const H = {
  subscription: "Hookstream-Subscription",
  attempt: "Hookstream-Attempt",
  due: "Hookstream-Due",
  eventId: "Hookstream-Event-Id",
  eventSubject: "Hookstream-Event-Subject",
  eventTime: "Hookstream-Event-Time",
  eventStream: "Hookstream-Event-Stream",
  eventSeq: "Hookstream-Event-Seq",
  eventHeaders: "Hookstream-Event-Headers",
  reason: "Hookstream-Reason",
  statusCode: "Hookstream-Status-Code",
  attempts: "Hookstream-Attempts",
} as const;

/**
 * Retry tasks and dead letters on JetStream. A task is the original payload with the delivery state
 * in headers, published with a deterministic Nats-Msg-Id so a re-publish after a crash is deduplicated.
 */
export class JetStreamRetryStore implements RetryStore {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly subjectPrefix: string,
    private readonly log: Logger,
  ) {}

  async persist(task: DeliveryTask, _reason: string): Promise<void> {
    const [namespace = "_"] = task.subscription.split("/");
    const h = natsHeaders();
    h.set(H.subscription, task.subscription);
    h.set(H.attempt, String(task.attempt));
    h.set(H.due, String(task.due));
    setEventHeaders(h, task);
    await this.js.publish(`${this.subjectPrefix}.${namespace}`, task.event.payload, {
      headers: h,
      msgID: `${task.event.id}:${task.subscription}:${task.attempt}`,
    });
  }

  async deadLetter(
    task: DeliveryTask,
    subject: string | undefined,
    info: { reason: string; statusCode?: number; attempts: number },
  ): Promise<boolean> {
    if (!subject) return false;
    const h = natsHeaders();
    for (const [k, v] of Object.entries(task.event.headers)) h.set(k, v);
    h.set(H.subscription, task.subscription);
    h.set(H.reason, info.reason.replace(/[\r\n]+/g, " ").slice(0, 1024));
    h.set(H.attempts, String(info.attempts));
    if (info.statusCode !== undefined) h.set(H.statusCode, String(info.statusCode));
    h.set(H.eventId, task.event.id);
    h.set(H.eventSubject, task.event.subject);
    try {
      await this.js.publish(subject, task.event.payload, {
        headers: h,
        msgID: `dl:${task.event.id}:${task.subscription}`,
      });
    } catch (err) {
      // No stream captures the dead-letter subject: publish plainly so subscribers still see it.
      this.log.warn(
        { subscription: task.subscription, subject, err: (err as Error).message },
        "no JetStream stream captures the dead-letter subject; published without persistence",
      );
      this.nc.publish(subject, task.event.payload, { headers: h });
    }
    return true;
  }
}

function setEventHeaders(h: ReturnType<typeof natsHeaders>, task: DeliveryTask): void {
  const e = task.event;
  h.set(H.eventId, e.id);
  h.set(H.eventSubject, e.subject);
  h.set(H.eventTime, String(e.time.getTime()));
  h.set(H.eventStream, e.stream);
  h.set(H.eventSeq, String(e.seq));
  h.set(H.eventHeaders, JSON.stringify(e.headers));
}
