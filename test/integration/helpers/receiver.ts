import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export type Behaviour = (req: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

/** A real HTTP receiver on loopback that records every request and answers as the test says. */
export class Receiver {
  readonly received: ReceivedRequest[] = [];
  behaviour: Behaviour = (_req, res) => void res.writeHead(204).end();
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          headers[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
        const r: ReceivedRequest = {
          at: Date.now(),
          path: req.url ?? "/",
          headers,
          body: Buffer.concat(chunks),
        };
        this.received.push(r);
        void Promise.resolve(this.behaviour(r, res)).catch(() => res.destroy());
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Unique webhook-ids that were answered 2xx (the behaviour decides; recorded via `ok`). */
  ids(): Set<string> {
    return new Set(this.received.map((r) => r.headers["webhook-id"] ?? ""));
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
