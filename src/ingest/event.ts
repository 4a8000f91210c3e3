import type { JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/nats-core";
import { webhookId } from "../signing/index.js";

/** An event as the pipeline sees it: raw bytes (signed as they are) plus what routing needs. */
export interface IngestedEvent {
  /** The webhook-id: the same on every attempt and every replay of this event. */
  id: string;
  subject: string;
  /** Header names lower-cased, repeated values joined with ", " (what filters see). */
  headers: Record<string, string>;
  payload: Uint8Array;
  /** When the event was stored in JetStream. */
  time: Date;
  stream: string;
  seq: number;
}

/** Headers NATS and JetStream use for themselves: never forwarded as the event's own. */
const INTERNAL = /^(nats-|hookstream-)/i;

export function headersOf(hdrs: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!hdrs) return out;
  for (const [name, values] of hdrs) {
    const key = name.toLowerCase();
    if (INTERNAL.test(key)) continue;
    out[key] = values.join(", ");
  }
  return out;
}

export function ingest(m: JsMsg): IngestedEvent {
  const info = m.info;
  const msgId = m.headers?.get("Nats-Msg-Id");
  return {
    id: webhookId({ msgId: msgId || undefined, stream: info.stream, seq: info.streamSequence }),
    subject: m.subject,
    headers: headersOf(m.headers),
    // Its own copy: the message's bytes are a view into the client's read buffer, which a long
    // wait (or a worker thread's structured clone) would otherwise keep whole.
    payload: new Uint8Array(m.data),
    time: new Date(Math.floor(m.info.timestampNanos / 1_000_000)),
    stream: info.stream,
    seq: info.streamSequence,
  };
}
