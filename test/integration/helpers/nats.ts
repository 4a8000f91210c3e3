import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { bedEnv, uniqueName } from "../env.js";

/** Names that keep one test's streams apart from every other test's on the shared nats-server. */
export function streamNames(prefix: string): {
  stream: string;
  subjects: string;
  retryStream: string;
  retryPrefix: string;
  consumer: string;
  base: string;
} {
  const id = uniqueName(prefix).replace(/-/g, "_");
  return {
    base: id,
    stream: `EV_${id}`,
    subjects: `${id}.>`,
    retryStream: `RT_${id}`,
    retryPrefix: `_retry.${id}`,
    consumer: `c_${id}`,
  };
}

export function streamArgs(n: ReturnType<typeof streamNames>): string[] {
  return [
    "--stream",
    n.stream,
    "--stream-subjects",
    n.subjects,
    "--retry-stream",
    n.retryStream,
    "--retry-subject-prefix",
    n.retryPrefix,
    "--consumer",
    n.consumer,
  ];
}

export async function natsClient(
  url = bedEnv("HOOKSTREAM_TEST_NATS_URL"),
): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  return { nc, js: jetstream(nc) };
}

/** Publishes with a Nats-Msg-Id, so the webhook-id is the given id. */
export async function publish(
  js: JetStreamClient,
  subject: string,
  body: unknown,
  id: string,
  extra: Record<string, string> = {},
): Promise<void> {
  const h = headers();
  h.set("Nats-Msg-Id", id);
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  const data = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  await js.publish(subject, data, { headers: h });
}

export { jetstreamManager };
