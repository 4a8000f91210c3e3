import { Agent, type Dispatcher } from "undici";
import type { DeliveryOutcome } from "./retry-policy.js";
import { ERR_DESTINATION_REFUSED, checkUrl, type AllowList } from "./ssrf.js";
import { guardedLookup } from "./ssrf-lookup.js";

/** One signed HTTP request, fully prepared by the caller. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  timeoutMs: number;
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

  async send(req: WebhookRequest): Promise<SendResult> {
    const started = performance.now();
    const done = (outcome: DeliveryOutcome): SendResult => ({
      ...outcome,
      durationMs: performance.now() - started,
    });
    const target = this.target(req.url);
    if (!target.ok) {
      return done({
        kind: "error",
        code: ERR_DESTINATION_REFUSED,
        message: `destination refused: ${target.reason}`,
      });
    }
    try {
      // No AbortSignal per request (it costs a timer each): undici's own timers bound the wait for
      // the response headers and for each chunk of the body, the connect timeout the connection.
      const res: Dispatcher.ResponseData = await this.agentFor(req.tls).request({
        origin: target.origin,
        path: target.path,
        method: "POST",
        headers: req.headers,
        body: req.body,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      await this.drain(res.body);
      const retryAfter = res.headers["retry-after"];
      const outcome: DeliveryOutcome = { kind: "response", status: res.statusCode };
      if (typeof retryAfter === "string") outcome.retryAfter = retryAfter;
      return done(outcome);
    } catch (err) {
      const e = err as {
        code?: string;
        name?: string;
        message?: string;
        cause?: { code?: string; message?: string };
      };
      const timeout =
        e.code === "UND_ERR_HEADERS_TIMEOUT" ||
        e.code === "UND_ERR_BODY_TIMEOUT" ||
        e.code === "UND_ERR_CONNECT_TIMEOUT";
      const code = timeout ? "ETIMEDOUT" : (e.code ?? e.cause?.code);
      const message = timeout
        ? `timed out after ${req.timeoutMs} ms (${e.code})`
        : (e.cause?.message ?? e.message ?? String(err));
      return done({ kind: "error", ...(code ? { code } : {}), message });
    }
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

  /** Reads (and discards) at most maxResponseBytes; a larger body is cut off with its connection. */
  private async drain(body: Dispatcher.ResponseData["body"]): Promise<void> {
    let read = 0;
    for await (const chunk of body) {
      read += (chunk as Buffer).length;
      if (read > this.maxResponseBytes) {
        body.destroy();
        return;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), ...[...this.tlsAgents.values()].map((a) => a.close())]);
  }
}
