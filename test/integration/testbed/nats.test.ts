import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { bedEnv, uniqueName } from "../env.js";

describe("test bed: real nats-server with JetStream", () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: bedEnv("HOOKSTREAM_TEST_NATS_URL") });
  });
  afterAll(async () => {
    await nc.close();
  });

  it("creates a stream, publishes, pulls and acks", async () => {
    const stream = uniqueName("BED").replace(/-/g, "_");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) {
      const ack = await js.publish(`${stream}.orders.created`, JSON.stringify({ i }));
      expect(ack.seq).toBe(i + 1);
    }
    await jsm.consumers.add(stream, { durable_name: "bed", ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get(stream, "bed");
    const batch = await consumer.fetch({ max_messages: 5, expires: 2000 });
    const got: number[] = [];
    for await (const m of batch) {
      got.push(m.json<{ i: number }>().i);
      await m.ackAck();
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    const info = await consumer.info();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });
});
