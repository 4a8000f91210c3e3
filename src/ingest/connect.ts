import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from "@nats-io/nats-core";
import type { Counter } from "prom-client";
import type { NatsConfig } from "../config.js";
import type { Logger } from "../observability/logger.js";

/** Translates the operator's configuration into the client's options (no I/O beyond reading key files). */
export function natsOptions(cfg: NatsConfig, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: cfg.servers,
    name,
    // An operator outlives NATS restarts: keep reconnecting forever, with jittered waits.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    waitOnFirstConnect: false,
    pingInterval: 20_000,
  };
  if (cfg.credsFile) opts.authenticator = credsAuthenticator(readFileSync(cfg.credsFile));
  if (cfg.nkeySeedFile)
    opts.authenticator = nkeyAuthenticator(
      new TextEncoder().encode(readFileSync(cfg.nkeySeedFile, "utf8").trim()),
    );
  if (cfg.user !== undefined) {
    opts.user = cfg.user;
    opts.pass = cfg.password;
  }
  if (cfg.token !== undefined) opts.token = cfg.token;
  if (cfg.tlsCaFile || cfg.tlsCertFile) {
    opts.tls = {};
    if (cfg.tlsCaFile) opts.tls.caFile = cfg.tlsCaFile;
    if (cfg.tlsCertFile) opts.tls.certFile = cfg.tlsCertFile;
    if (cfg.tlsKeyFile) opts.tls.keyFile = cfg.tlsKeyFile;
  }
  return opts;
}

/** Connects, then logs and counts every connection status change for as long as the connection lives. */
export async function connectNats(
  cfg: NatsConfig,
  log: Logger,
  events: Counter<"type">,
): Promise<NatsConnection> {
  const nc = await connect(natsOptions(cfg, "hookstream"));
  log.info({ server: nc.getServer() }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      events.inc({ type: s.type });
      switch (s.type) {
        case "disconnect":
          log.warn({ server: s.server }, "NATS connection lost; reconnecting");
          break;
        case "reconnect":
          log.info({ server: s.server }, "NATS reconnected");
          break;
        case "error":
          log.error({ err: s.error }, "NATS connection error");
          break;
        case "ldm":
          log.warn({ server: s.server }, "NATS server entering lame-duck mode");
          break;
        case "slowConsumer":
          log.warn({ sub: s.sub.getSubject() }, "NATS slow consumer");
          break;
        default:
          log.debug({ status: s.type }, "NATS status");
      }
    }
  })();
  return nc;
}
