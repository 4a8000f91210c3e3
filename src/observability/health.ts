import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "./logger.js";

/** A named readiness check; the server is ready only when every check passes. */
export interface ReadinessCheck {
  name: string;
  check: () => boolean;
}

export interface HealthServer {
  readonly address: AddressInfo;
  addReadinessCheck(check: ReadinessCheck): void;
  close(): Promise<void>;
}

/** Serves /metrics, /healthz (the process is alive) and /readyz (every readiness check passes). */
export async function startHealthServer(
  host: string,
  port: number,
  registry: Registry,
  log: Logger,
): Promise<HealthServer> {
  const checks: ReadinessCheck[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const failing = checks.filter((c) => !c.check()).map((c) => c.name);
      if (failing.length === 0) res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      else res.writeHead(503, { "content-type": "text/plain" }).end(`not ready: ${failing.join(", ")}\n`);
    } else if (path === "/metrics") {
      registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
        (err: unknown) => {
          log.error({ err }, "collecting metrics failed");
          res.writeHead(500).end();
        },
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  log.info({ address: `${address.address}:${address.port}` }, "health and metrics server listening");
  return {
    address,
    addReadinessCheck: (check) => checks.push(check),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
