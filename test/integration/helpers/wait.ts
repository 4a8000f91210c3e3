import { setTimeout as sleep } from "node:timers/promises";

/** Polls until check() returns a value other than undefined/false; fails with the last observation. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${String((last as Error)?.message ?? JSON.stringify(last))}`,
      );
    }
    await sleep(intervalMs);
  }
}
