import { afterEach, describe, expect, it, jest } from "@jest/globals";
import type { JsMsg } from "@nats-io/jetstream";
import { AckBatcher } from "../../../src/ingest/acker.js";

function msgs(n: number, acked: number[]): JsMsg[] {
  return Array.from({ length: n }, (_, i) => ({ ack: () => void acked.push(i) }) as unknown as JsMsg);
}

describe("AckBatcher", () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it("holds acks for the delay, then sends them all in order", () => {
    jest.useFakeTimers();
    const acked: number[] = [];
    const b = new AckBatcher(5, 100);
    for (const m of msgs(3, acked)) b.ack(m);
    expect(acked).toEqual([]);
    jest.advanceTimersByTime(4);
    expect(acked).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(acked).toEqual([0, 1, 2]);
  });

  it("sends a full batch at once, and the rest after the delay", () => {
    jest.useFakeTimers();
    const acked: number[] = [];
    const b = new AckBatcher(5, 4);
    for (const m of msgs(6, acked)) b.ack(m);
    expect(acked).toEqual([0, 1, 2, 3]);
    jest.advanceTimersByTime(5);
    expect(acked).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("flush() sends what is pending now and cancels the timer", () => {
    jest.useFakeTimers();
    const acked: number[] = [];
    const b = new AckBatcher(5, 100);
    for (const m of msgs(2, acked)) b.ack(m);
    b.flush();
    expect(acked).toEqual([0, 1]);
    expect(jest.getTimerCount()).toBe(0);
    b.flush();
    expect(acked).toEqual([0, 1]);
  });
});
