import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Webhook } from "standardwebhooks";
import { classify } from "../../../src/delivery/retry-policy.js";
import { WorkerNotifier } from "../../../src/delivery/worker-notifier.js";
import { generateSecret, parseSecret } from "../../../src/signing/index.js";
import { Receiver } from "../helpers/receiver.js";
import { waitFor } from "../helpers/wait.js";

/** Deliveries from worker threads, against a real loopback receiver. */
describe("WorkerNotifier", () => {
  const r = new Receiver();
  beforeAll(async () => {
    await r.start();
  });
  afterAll(async () => {
    await r.stop();
  });

  it("delivers from its threads with the exact body and headers, spread over the workers", async () => {
    const n = new WorkerNotifier({ workers: 2, allowCidrs: ["127.0.0.0/8"], options: {} });
    const before = r.received.length;
    // The body is a view into a larger buffer: only its own bytes may be sent.
    const big = Buffer.from(`${"#".repeat(100)}{"n":NUM}${"#".repeat(100)}`);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const body = Buffer.from(big.toString().slice(100, -100).replace("NUM", String(i)));
        return n.send({
          url: r.url(`/hook/${i}`),
          headers: { "content-type": "application/json", "webhook-id": `msg_${i}` },
          body,
          timeoutMs: 2000,
        });
      }),
    );
    expect(results.every((x) => x.kind === "response" && x.status === 204)).toBe(true);
    const got = r.received.slice(before);
    expect(got).toHaveLength(200);
    for (const req of got) {
      const i = Number(req.path.split("/").at(-1));
      expect(req.body.toString()).toBe(`{"n":${i}}`);
      expect(req.headers["webhook-id"]).toBe(`msg_${i}`);
    }
    await n.close();
  });

  it("signs in the worker what it sends, with every key given, verifiable by standardwebhooks", async () => {
    const n = new WorkerNotifier({ workers: 1, allowCidrs: ["127.0.0.0/8"], options: {} });
    const secrets = [generateSecret(), generateSecret()];
    const keys = secrets.map((s) => {
      const parsed = parseSecret(s);
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.key;
    });
    const before = r.received.length;
    const now = Math.floor(Date.now() / 1000);
    const res = await n.send({
      url: r.url(),
      headers: [
        "content-type",
        "application/json",
        "webhook-id",
        "msg_signed",
        "webhook-timestamp",
        String(now),
      ],
      body: Buffer.from('{"signed":true}'),
      timeoutMs: 2000,
      sign: { keys, id: "msg_signed", timestampSeconds: now },
    });
    expect(res).toMatchObject({ kind: "response", status: 204 });
    const got = r.received[before]!;
    expect(got.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    // Either secret alone verifies the delivery (a rotation's grace period).
    for (const secret of secrets) {
      expect(new Webhook(secret).verify(got.body.toString(), got.headers)).toEqual({ signed: true });
    }
    await n.close();
  });

  it("applies the SSRF guard inside the worker and reports timeouts", async () => {
    const n = new WorkerNotifier({ workers: 1, allowCidrs: [], options: {} });
    const refused = await n.send({ url: r.url(), headers: {}, body: new Uint8Array(), timeoutMs: 1000 });
    expect(refused).toMatchObject({ kind: "error", code: "ERR_DESTINATION_REFUSED" });
    await n.close();

    const m = new WorkerNotifier({ workers: 1, allowCidrs: ["127.0.0.0/8"], options: {} });
    r.behaviour = (_req, res) => void setTimeout(() => res.writeHead(200).end(), 2000);
    const slow = await m.send({ url: r.url(), headers: {}, body: new Uint8Array(), timeoutMs: 200 });
    expect(slow).toMatchObject({ kind: "error", code: "ETIMEDOUT" });
    r.behaviour = (_req, res) => void res.writeHead(204).end();
    await m.close();
  });

  it("fails a dead worker's requests as retryable errors and replaces it", async () => {
    const errors: Error[] = [];
    const n = new WorkerNotifier({
      workers: 1,
      allowCidrs: ["127.0.0.0/8"],
      options: {},
      onWorkerError: (e) => errors.push(e),
    });
    expect(
      await n.send({ url: r.url(), headers: {}, body: new Uint8Array(), timeoutMs: 2000 }),
    ).toMatchObject({
      kind: "response",
      status: 204,
    });
    // A request the receiver holds, then the worker thread dies under it.
    r.behaviour = (_req, res) => void setTimeout(() => res.writeHead(204).end(), 3000);
    const before = r.received.length;
    const pending = n.send({ url: r.url(), headers: {}, body: new Uint8Array(), timeoutMs: 5000 });
    await waitFor("request at the receiver", () => r.received.length > before);
    const slots = (n as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
    await slots[0]!.worker.terminate();
    const failed = await pending;
    expect(failed).toMatchObject({ kind: "error", code: "EWORKER" });
    expect(classify(failed)).toBe("retry");
    expect(errors).toHaveLength(1);
    r.behaviour = (_req, res) => void res.writeHead(204).end();
    // Replaced about a second later; meanwhile requests fail fast rather than hang.
    await waitFor(
      "a new worker delivering",
      async () => {
        const res = await n.send({ url: r.url(), headers: {}, body: new Uint8Array(), timeoutMs: 2000 });
        return res.kind === "response" && res.status === 204;
      },
      10_000,
      200,
    );
    await n.close();
  });

  it("rejects a bad allow-list on the caller's thread, and fails requests once closed", async () => {
    expect(() => new WorkerNotifier({ workers: 1, allowCidrs: ["not-a-cidr"], options: {} })).toThrow(
      /not-a-cidr/,
    );
    const n = new WorkerNotifier({ workers: 1, allowCidrs: ["127.0.0.0/8"], options: {} });
    await n.close();
    const late = await n.send({ url: r.url(), headers: {}, body: new Uint8Array(), timeoutMs: 1000 });
    expect(late).toMatchObject({ kind: "error", code: "EWORKER" });
  });
});
