/**
 * Signatures per second of the delivery signer, the way the dispatcher calls it: one
 * webhookSignature per attempt, with one key normally and two during a rotation.
 * Run: node --import tsx bench/signing.ts
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { webhookSignature } from "../src/signing/index.js";

const RUN_MS = 1000;
const ROUNDS = 3;

function rate(keys: Buffer[], body: Uint8Array): number {
  const id = "evt_ORDERS_123456";
  const seconds = Math.floor(Date.now() / 1000);
  let sink = 0;
  const once = (n: number): number => {
    const start = performance.now();
    for (let i = 0; i < n; i++) sink += webhookSignature(keys, id, seconds + (i & 1023), body).length;
    return performance.now() - start;
  };
  once(2000); // warm-up, lets the JIT settle
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let done = 0;
    let elapsed = 0;
    while (elapsed < RUN_MS) {
      elapsed += once(1000);
      done += 1000;
    }
    best = Math.max(best, (done / elapsed) * 1000);
  }
  if (sink === 0) throw new Error("unreachable: keeps the signing from being optimised away");
  return Math.round(best);
}

const results = new Map<string, number>();
for (const [label, size] of [
  ["1k", 1024],
  ["16k", 16 * 1024],
] as const) {
  const body = randomBytes(size);
  for (const keyCount of [1, 2]) {
    const keys = Array.from({ length: keyCount }, () => randomBytes(32));
    const perSecond = rate(keys, body);
    results.set(`${label}_${keyCount}`, perSecond);
    console.log(
      `sign ${label.padStart(3)} body, ${keyCount} key${keyCount > 1 ? "s" : " "}: ${perSecond} signatures/s`,
    );
  }
}
console.log(
  `node ${process.version}, ${process.arch}; best of ${ROUNDS} runs of ${RUN_MS} ms; "signatures/s" = webhookSignature calls/s`,
);
console.log(`summary sign_1k_per_s=${results.get("1k_1")} sign_16k_per_s=${results.get("16k_1")}`);
