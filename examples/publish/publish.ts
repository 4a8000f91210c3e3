// Publishes example events to NATS JetStream, the way a service would, for hookstream to deliver.
//
//   node --import tsx examples/publish/publish.ts [options] [SUBJECT...]
//   (or: npm run example:publish -- [options] [SUBJECT...])
//
//   SUBJECT...          subjects to publish on (default: shop.orders.created shop.orders.o-1001.paid
//                       shop.refunds.r-1001.issued, which examples/subscriptions/01-basic.yaml matches)
//   -n, --count N       events per subject (default 1)
//   --id-prefix P       event ids are P-1, P-2, ... (default: "evt-" and the time, unique per run)
//   -H, --header K:V    an extra NATS header on every event, repeatable (e.g. -H X-Region:eu)
//   -d, --data JSON     the payload of every event (default: a small generated order)
//   NATS_URL            the server (default nats://127.0.0.1:4222)
//
// Each event gets a Nats-Msg-Id header (the id), which hookstream sends as the webhook-id so
// receivers can deduplicate, and JetStream uses to drop a repeated publish within its duplicate
// window (2 minutes by default). It prints one line per event:
//   published id=evt-m1x2-1 subject=shop.orders.created stream=HOOKSTREAM_EVENTS seq=1
//
// The same with the NATS CLI is in examples/publish/nats-cli.md.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";

export const DEFAULT_SUBJECTS: readonly string[] = [
  "shop.orders.created",
  "shop.orders.o-1001.paid",
  "shop.refunds.r-1001.issued",
];

export interface PublishOptions {
  /** NATS server URL(s), comma-separated. */
  url: string;
  subjects: readonly string[];
  /** Events per subject. */
  count: number;
  /** Ids are `${idPrefix}-1`, `${idPrefix}-2`, ... across all subjects. */
  idPrefix: string;
  /** Extra headers on every event. */
  headers?: Record<string, string>;
  /** The payload of every event; a generated order when absent. */
  data?: string;
  /** Called once per published event (the CLI prints it). */
  onPublished?: (event: PublishedEvent) => void;
}

export interface PublishedEvent {
  id: string;
  subject: string;
  stream: string;
  seq: number;
  /** JetStream already had an event with this id within its duplicate window and dropped this one. */
  duplicate: boolean;
}

/**
 * Only these characters make the Nats-Msg-Id the webhook-id unchanged; hookstream escapes others
 * (a "." becomes "-2e", with a "msg_" prefix), which would make the ids harder to follow.
 */
const SAFE_ID = /^[A-Za-z0-9_-]+$/;

/** Publishes count events on each subject, each acknowledged by JetStream (stored) before the next. */
export async function publishEvents(opts: PublishOptions): Promise<PublishedEvent[]> {
  if (!SAFE_ID.test(opts.idPrefix)) {
    throw new Error(`id prefix "${opts.idPrefix}" may only contain letters, digits, "_" and "-"`);
  }
  let nc;
  try {
    nc = await connect({ servers: opts.url.split(",") });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${opts.url} (set NATS_URL): ${(err as Error).message}`, {
      cause: err,
    });
  }
  const published: PublishedEvent[] = [];
  try {
    const js = jetstream(nc);
    let n = 0;
    for (const subject of opts.subjects) {
      for (let i = 0; i < opts.count; i++) {
        n++;
        const id = `${opts.idPrefix}-${n}`;
        const h = natsHeaders();
        // Receivers and CEL filters see the payload's type; hookstream forwards it as the HTTP Content-Type.
        h.set("Content-Type", "application/json");
        for (const [name, value] of Object.entries(opts.headers ?? {})) h.set(name, value);
        const data =
          opts.data ?? JSON.stringify({ orderId: `o-${1000 + n}`, total: 60 * n, currency: "EUR" });
        let ack;
        try {
          // msgID sets the Nats-Msg-Id header. publish() resolves once the stream has stored the event.
          ack = await js.publish(subject, data, { headers: h, msgID: id });
        } catch (err) {
          throw new Error(
            `publishing on ${subject} failed: ${(err as Error).message}. Is there a stream for this subject? ` +
              "hookstream creates one when it runs with --stream-subjects (the demo uses 'shop.>').",
            { cause: err },
          );
        }
        const event = { id, subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
        published.push(event);
        opts.onPublished?.(event);
      }
    }
  } finally {
    await nc.close();
  }
  return published;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        count: { type: "string", short: "n", default: "1" },
        "id-prefix": { type: "string" },
        header: { type: "string", short: "H", multiple: true },
        data: { type: "string", short: "d" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    console.error(`publish: ${(err as Error).message} (see --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log("usage: publish.ts [-n COUNT] [--id-prefix P] [-H Name:value]... [-d JSON] [SUBJECT...]");
    return 0;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) {
    console.error(`publish: --count "${values.count}" is not a whole number of at least 1`);
    return 2;
  }
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(":");
    if (colon <= 0) {
      console.error(`publish: header "${h}" is not Name:value`);
      return 2;
    }
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const url = process.env.NATS_URL || "nats://127.0.0.1:4222";
  try {
    const events = await publishEvents({
      url,
      subjects: positionals.length > 0 ? positionals : DEFAULT_SUBJECTS,
      count,
      idPrefix: values["id-prefix"] ?? `evt-${Date.now().toString(36)}`,
      headers,
      ...(values.data === undefined ? {} : { data: values.data }),
      onPublished: (e) =>
        console.log(
          `published id=${e.id} subject=${e.subject} stream=${e.stream} seq=${e.seq}${e.duplicate ? " duplicate=yes (dropped by JetStream)" : ""}`,
        ),
    });
    console.log(`published ${events.length} event(s) to ${url}`);
    return 0;
  } catch (err) {
    console.error(`publish: ${(err as Error).message}`);
    return 1;
  }
}

// Run as a command, but not when the demo imports publishEvents from this file.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = await main(process.argv.slice(2));
}
