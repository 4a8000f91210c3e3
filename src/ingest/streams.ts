import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamInfo,
} from "@nats-io/jetstream";

export interface StreamSettings {
  /** The events stream services publish into. */
  stream: string;
  /** When set, the operator creates (or updates) the stream with these subjects; else it must exist. */
  subjects: string[];
  maxAgeMs: number;
  retention: "limits" | "interest";
  consumer: string;
  /** How long an event may stay unacked before JetStream redelivers it. */
  ackWaitMs: number;
  maxAckPending: number;
  retryStream: string;
  retrySubjectPrefix: string;
  replicas: number;
}

const NANOS = 1_000_000;

function notFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.status === 404;
}

/**
 * Binds to the events stream (creating it only when subjects are configured), and creates what the
 * operator owns: the retry stream (work queue: one durable task per pending retry) and the two
 * durable pull consumers with explicit acks.
 */
export async function ensureStreams(jsm: JetStreamManager, s: StreamSettings): Promise<StreamInfo> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(s.stream);
    if (s.subjects.length > 0 && !sameSet(info.config.subjects ?? [], s.subjects)) {
      info = await jsm.streams.update(s.stream, { subjects: s.subjects });
    }
  } catch (err) {
    if (!notFound(err)) throw err;
    if (s.subjects.length === 0) {
      throw new Error(
        `JetStream stream "${s.stream}" does not exist: create it, or give --stream-subjects so hookstream creates it`,
      );
    }
    info = await jsm.streams.add({
      name: s.stream,
      subjects: s.subjects,
      retention: s.retention === "interest" ? RetentionPolicy.Interest : RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: s.maxAgeMs * NANOS,
      num_replicas: s.replicas,
    });
  }
  try {
    await jsm.streams.info(s.retryStream);
  } catch (err) {
    if (!notFound(err)) throw err;
    await jsm.streams.add({
      name: s.retryStream,
      subjects: [`${s.retrySubjectPrefix}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: s.replicas,
      // Deduplicates a task re-published after a crash between publish and ack.
      duplicate_window: 120_000 * NANOS,
    });
  }
  await ensureConsumer(jsm, s.stream, {
    durable_name: s.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    ack_wait: s.ackWaitMs * NANOS,
    max_ack_pending: s.maxAckPending,
  });
  await ensureConsumer(jsm, s.retryStream, {
    durable_name: `${s.consumer}-retry`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // An attempt may outlast this (endpoint timeouts go up to 5 min): the pipeline extends it with
    // progress acks while the attempt runs.
    ack_wait: s.ackWaitMs * NANOS,
    max_ack_pending: s.maxAckPending,
  });
  return info;
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Parameters<JetStreamManager["consumers"]["add"]>[1],
): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name ?? "");
    await jsm.consumers.update(stream, config.durable_name ?? "", {
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
    });
  } catch (err) {
    if (!notFound(err)) throw err;
    await jsm.consumers.add(stream, config);
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
