import type { EndpointState } from "../api/types.js";

export type { EndpointState };

/** What the delivery side reports about each attempt; the one interface between delivery and status. */
export interface AttemptOutcome {
  /** namespace/name of the subscription */
  subscription: string;
  eventId: string;
  /** delivered: 2xx; retrying: failed, will retry; failed: failed, will not retry; deadLettered: gave up. */
  result: "delivered" | "retrying" | "failed" | "deadLettered";
  statusCode?: number;
  durationMs: number;
  error?: string;
  /** When the attempt ended, in ms since the epoch (a number: no Date per delivery). */
  time: number;
}

export interface OutcomeSink {
  attempt(outcome: AttemptOutcome): void;
  /** An event entered (+1) or left (-1) durable retry state. */
  retrying(subscription: string, delta: number): void;
  endpointState(subscription: string, state: EndpointState): void;
}

export interface DeliveryCounts {
  succeeded: number;
  failed: number;
  retrying: number;
  deadLettered: number;
}

export interface LastAttempt {
  time: string;
  eventId: string;
  statusCode?: number;
  durationMs: number;
  error?: string;
}

/** The delivery part of a subscription's status. */
export interface DeliverySummary {
  deliveries: DeliveryCounts;
  endpointState?: EndpointState;
  lastAttempt?: LastAttempt;
  lastSuccessTime?: string;
}
