/**
 * A circuit breaker per subscription: stop sending to an endpoint that keeps failing, and try one
 * probe delivery every probeInterval until one gets through. Pure: the caller passes the time.
 *
 * What counts (healthSignal): the breaker measures the endpoint's health, not the payload's.
 * Connection errors, DNS failures, timeouts, TLS errors, 408, 429 and 5xx are failures. Any other
 * response (2xx, 3xx, 4xx) proves the endpoint is up and answering deliberately, so it counts as
 * a success: a 400 for one malformed event must neither open the circuit nor keep it open while
 * every other event waits. A refused destination (SSRF guard) or a malformed request never
 * reached the endpoint and says nothing about it (neutral).
 */
import type { DeliveryOutcome } from "./retry-policy.js";
import { isPermanentError } from "./retry-policy.js";

export type BreakerState = "closed" | "open" | "half-open";
export type HealthSignal = "success" | "failure" | "neutral";

export function healthSignal(outcome: DeliveryOutcome): HealthSignal {
  if (outcome.kind === "error") return isPermanentError(outcome.code) ? "neutral" : "failure";
  const { status } = outcome;
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return "failure";
  return "success";
}

/** What status.endpointState should say for a breaker state. */
export function endpointStateOf(state: BreakerState): "Active" | "CircuitOpen" {
  return state === "closed" ? "Active" : "CircuitOpen";
}

export interface BreakerChange {
  from: BreakerState;
  to: BreakerState;
  /** The time passed to the call that caused the change. */
  at: number;
  /** endpointStateOf(to): when it differs from endpointStateOf(from), status needs updating. */
  endpointState: "Active" | "CircuitOpen";
}

export interface BreakerOptions {
  /** Consecutive failures that open the circuit; at least 1. */
  failureThreshold: number;
  /** While open, the time from one probe's failure to the next probe; more than 0. */
  probeIntervalMs: number;
  /** Called on every state change, synchronously, after the state has changed. */
  onChange?: (change: BreakerChange) => void;
}

/**
 * Permission for one attempt, handed back with its result. Results of attempts granted under an
 * older state (for example requests that were already in flight when the circuit opened) are
 * recognised by their stale permit and ignored: they say nothing newer than what changed the state.
 */
export interface Permit {
  readonly probe: boolean;
}

export class CircuitBreaker {
  private current: BreakerState = "closed";
  private failures = 0;
  private probeAt = 0;
  // One shared permit per closed period; a fresh one per probe. Identity tells stale ones apart.
  private closedPermit: Permit = { probe: false };
  private probePermit: Permit | undefined;
  private readonly failureThreshold: number;
  private readonly probeIntervalMs: number;
  private readonly onChange: ((change: BreakerChange) => void) | undefined;

  constructor(options: BreakerOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
      throw new RangeError(
        `failureThreshold must be an integer of at least 1, got ${options.failureThreshold}`,
      );
    }
    if (!(options.probeIntervalMs > 0 && Number.isFinite(options.probeIntervalMs))) {
      throw new RangeError(`probeIntervalMs must be more than 0, got ${options.probeIntervalMs}`);
    }
    this.failureThreshold = options.failureThreshold;
    this.probeIntervalMs = options.probeIntervalMs;
    this.onChange = options.onChange;
  }

  get state(): BreakerState {
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** When the next probe may start; undefined unless open (half-open already has its probe). */
  get nextProbeAt(): number | undefined {
    return this.current === "open" ? this.probeAt : undefined;
  }

  /**
   * May an attempt start now? Closed: always. Open: only once the probe is due, and then this
   * call claims the single probe (the state becomes half-open until its result is recorded).
   * Half-open: never. Every permit must be handed back to `record` exactly once, also when the
   * attempt is abandoned (as "neutral"), or the circuit stays half-open for good.
   */
  canAttempt(now: number): Permit | false {
    if (this.current === "closed") return this.closedPermit;
    if (this.current === "half-open" || now < this.probeAt) return false;
    this.probePermit = { probe: true };
    this.transition("half-open", now);
    return this.probePermit;
  }

  record(permit: Permit, signal: HealthSignal, now: number): void {
    if (permit === this.closedPermit && this.current === "closed") {
      if (signal === "success") this.failures = 0;
      else if (signal === "failure" && ++this.failures >= this.failureThreshold) this.open(now);
      return;
    }
    if (permit !== this.probePermit || this.current !== "half-open") return;
    this.probePermit = undefined;
    if (signal === "success") {
      this.failures = 0;
      this.closedPermit = { probe: false };
      this.transition("closed", now);
    } else if (signal === "failure") {
      this.failures++;
      this.open(now);
    } else {
      // The probe told nothing about the endpoint; the next attempt may probe straight away.
      this.probeAt = now;
      this.transition("open", now);
    }
  }

  private open(now: number): void {
    this.probeAt = now + this.probeIntervalMs;
    this.transition("open", now);
  }

  private transition(to: BreakerState, at: number): void {
    const from = this.current;
    this.current = to;
    if (from !== to) this.onChange?.({ from, to, at, endpointState: endpointStateOf(to) });
  }
}
