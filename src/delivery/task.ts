import type { IngestedEvent } from "../ingest/event.js";

/** One event for one subscription: the unit of delivery, retry and dead-lettering. */
export interface DeliveryTask {
  subscription: string;
  event: IngestedEvent;
  /** The attempt this task will make: 1 for the first. */
  attempt: number;
  /** Unix ms before which the attempt must not start. */
  due: number;
  /**
   * Settles the task's source once (later calls do nothing): true acks the event's share or the retry
   * message; false asks JetStream to redeliver it.
   */
  settle(ok: boolean): void;
  /** For retry tasks: give the message back to JetStream to redeliver after delayMs (paused, circuit open). */
  defer?(delayMs: number): void;
  /** For retry tasks: keeps the retry message from being redelivered while the attempt runs. */
  keepAlive?(): void;
  /** When the task was queued in memory (for the hand-off deadline). */
  queuedAt: number;
  /** Tasks straight from the events stream may be handed off to durable retry state when slow. */
  fromEventStream: boolean;
}

/** Where tasks go to wait durably, and where exhausted ones end. */
export interface RetryStore {
  /** Resolves once the task is durable (JetStream acknowledged the publish). */
  persist(task: DeliveryTask, reason: string): Promise<void>;
  /** Publishes to the dead-letter subject; false when there is none (counted and logged only). */
  deadLetter(
    task: DeliveryTask,
    subject: string | undefined,
    info: { reason: string; statusCode?: number; attempts: number },
  ): Promise<boolean>;
}
