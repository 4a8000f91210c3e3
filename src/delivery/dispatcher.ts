import { Agent, type Dispatcher } from "undici";
import { webhookSignature } from "../signing/index.js";
import type { DeliveryOutcome } from "./retry-policy.js";
import { ERR_DESTINATION_REFUSED, checkUrl, type AllowList } from "./ssrf.js";
import { guardedLookup } from "./ssrf-lookup.js";

/** One signed HTTP request, fully prepared by the caller. */
export interface WebhookRequest {
  url: string;
  /** Header names and values, as an object or as flat [name, value, name, value, ...] pairs. */
  headers: Record<string, string> | string[];
  body: Uint8Array;
  timeoutMs: number;
  /**
   * Sign the body as it is sent: adds `webhook-signature` (Standard Webhooks v1) over id, timestamp
   * and body with each key. Done here, where the bytes leave, so a delivery thread does the HMAC work.
   */
  sign?: { keys: readonly Uint8Array[]; id: string; timestampSeconds: number };
  /** Custom CA and client certificate (mTLS) for this endpoint. */
  tls?: { ca?: string; cert?: string; key?: string };
}

export type SendResult = DeliveryOutcome & { durationMs: number };

/** The one-method notifier interface: deliver a request, report what happened. Never throws. */
export interface Notifier {
  send(req: WebhookRequest): Promise<SendResult>;
  close(): Promise<void>;
}

export interface HttpNotifierOptions {
  allowList: AllowList;
  /** Response bodies are read up to this many bytes, then the connection is dropped (default 64 KiB). */
  maxResponseBytes?: number;
  connectTimeoutMs?: number;
  /** Connections kept per origin (default 64). */
  connectionsPerOrigin?: number;
}

/**
 * HTTP delivery with undici: keep-alive pools per origin, the SSRF guard at connect time (the socket
 * connects to exactly the address that was checked), timeouts on connect, headers and body, a cap
 * on what is read of each response, and no redirects (a 3xx is a failure).
 */
export class HttpNotifier implements Notifier {
  private readonly shared: Agent;
  /** Agents for endpoints with their own TLS settings, keyed by those settings. */
  private readonly tlsAgents = new Map<string, Agent>();
  private readonly maxResponseBytes: number;
  private readonly targets = new Map<
    string,
    { ok: true; origin: string; path: string } | { ok: false; reason: string }
  >();

  constructor(private readonly opts: HttpNotifierOptions) {
    this.maxResponseBytes = opts.maxResponseBytes ?? 64 * 1024;
    this.shared = this.makeAgent(undefined);
  }

  private makeAgent(tls: WebhookRequest["tls"]): Agent {
    return new Agent({
      connections: this.opts.connectionsPerOrigin ?? 64,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connect: {
        timeout: this.opts.connectTimeoutMs ?? 5000,
        lookup: guardedLookup(this.opts.allowList),
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls?.cert ? { cert: tls.cert, key: tls.key } : {}),
      },
    });
  }

  private agentFor(tls: WebhookRequest["tls"]): Agent {
    if (!tls || (!tls.ca && !tls.cert)) return this.shared;
    const key = `${tls.ca ?? ""}\0${tls.cert ?? ""}\0${tls.key ?? ""}`;
    let agent = this.tlsAgents.get(key);
    if (!agent) {
      agent = this.makeAgent(tls);
      this.tlsAgents.set(key, agent);
    }
    return agent;
  }

  send(req: WebhookRequest): Promise<SendResult> {
    const started = performance.now();
    const done = (outcome: DeliveryOutcome): SendResult => ({
      ...outcome,
      durationMs: performance.now() - started,
    });
    const target = this.target(req.url);
    if (!target.ok) {
      return Promise.resolve(
        done({
          kind: "error",
          code: ERR_DESTINATION_REFUSED,
          message: `destination refused: ${target.reason}`,
        }),
      );
    }
    let headers = req.headers;
    if (req.sign) {
      let signature: string;
      try {
        signature = webhookSignature(req.sign.keys, req.sign.id, req.sign.timestampSeconds, req.body);
      } catch (err) {
        return Promise.resolve(
          done({ kind: "error", code: "ERR_SIGNING", message: `cannot sign: ${(err as Error).message}` }),
        );
      }
      headers = Array.isArray(headers)
        ? [...headers, "webhook-signature", signature]
        : { ...headers, "webhook-signature": signature };
    }
    return new Promise<SendResult>((resolve) => {
      // A bare dispatch handler rather than `request()`: no response stream, no extra promises per
      // delivery; undici's own timers bound the wait for headers and for each chunk of the body.
      this.agentFor(req.tls).dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: "POST",
          headers,
          body: req.body,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        new ResponseSink(this.maxResponseBytes, req.timeoutMs, (outcome) => resolve(done(outcome))),
      );
    });
  }

  /** URL checks and parsing, once per distinct URL rather than once per request. */
  private target(url: string): { ok: true; origin: string; path: string } | { ok: false; reason: string } {
    let t = this.targets.get(url);
    if (!t) {
      const verdict = checkUrl(url, this.opts.allowList);
      if (!verdict.allowed) t = { ok: false, reason: verdict.reason };
      else {
        const u = new URL(url);
        t = { ok: true, origin: u.origin, path: `${u.pathname}${u.search}` };
      }
      if (this.targets.size >= 10_000) this.targets.clear();
      this.targets.set(url, t);
    }
    return t;
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), ...[...this.tlsAgents.values()].map((a) => a.close())]);
  }
}

const RETRY_AFTER = "retry-after";

/**
 * Receives one response: keeps the status and Retry-After, discards the body up to a cap (a larger
 * body is cut off with its connection) and reports exactly once.
 */
class ResponseSink implements Dispatcher.DispatchHandler {
  private status = 0;
  private retryAfter: string | undefined;
  private read = 0;
  private cut = false;
  private reported = false;
  private abort: ((err?: Error) => void) | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
    private readonly report: (outcome: DeliveryOutcome) => void,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx interim responses come first and are followed by the real one.
    if (statusCode < 200) return true;
    this.status = statusCode;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === RETRY_AFTER.length && name.toString("latin1").toLowerCase() === RETRY_AFTER) {
        this.retryAfter = rawHeaders[i + 1]!.toString("latin1");
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.read += chunk.length;
    if (this.read > this.maxBytes && !this.cut) {
      this.cut = true;
      this.abort?.(new Error(`response body larger than ${this.maxBytes} bytes: connection dropped`));
    }
    return true;
  }

  onComplete(): void {
    this.respond();
  }

  onError(err: Error): void {
    // A body cut off at the cap still had its answer: the status counts, not the dropped connection.
    if (this.cut) {
      this.respond();
      return;
    }
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    const timeout =
      e.code === "UND_ERR_HEADERS_TIMEOUT" ||
      e.code === "UND_ERR_BODY_TIMEOUT" ||
      e.code === "UND_ERR_CONNECT_TIMEOUT";
    const code = timeout ? "ETIMEDOUT" : (e.code ?? e.cause?.code);
    const message = timeout
      ? `timed out after ${this.timeoutMs} ms (${e.code})`
      : (e.cause?.message ?? e.message ?? String(err));
    this.finish({ kind: "error", ...(code ? { code } : {}), message });
  }

  private respond(): void {
    const outcome: DeliveryOutcome = { kind: "response", status: this.status };
    if (this.retryAfter !== undefined) outcome.retryAfter = this.retryAfter;
    this.finish(outcome);
  }

  private finish(outcome: DeliveryOutcome): void {
    if (this.reported) return;
    this.reported = true;
    this.report(outcome);
  }
}
