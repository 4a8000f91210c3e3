// An example webhook receiver: verifies every delivery from hookstream with the standardwebhooks
// library, prints one line per delivery, and answers 204 (verified) or 401 (not verified).
//
//   WEBHOOK_SECRET=whsec_... PORT=8080 node --import tsx examples/receiver/receiver.ts
//   (or: npm run example:receiver)
//
// Environment:
//   WEBHOOK_SECRET           required: the signing secret of the subscription (whsec_...)
//   WEBHOOK_PREVIOUS_SECRET  optional: also accepted, for a secret rotation
//                            (see examples/subscriptions/03-secret-rotation.yaml)
//   PORT                     default 8080; 0 picks a free port (the "listening on" line says which)
//   HOST                     default 0.0.0.0 (all interfaces); 127.0.0.1 keeps it on this machine
//
// Output, one line per request on stdout:
//   verified=yes id=order-1 subject=shop.orders.created subscription=shop/orders-basic key=current body={"total":120}
//   verified=no id=order-1 subject=shop.orders.created subscription=shop/orders-basic reason="No matching signature found" body=...
//
// A real receiver does the same check before trusting a request, and deduplicates on webhook-id:
// hookstream delivers at least once, so the same event can arrive again (with the same id).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** Larger bodies are refused; hookstream's own default limit on events is 1 MiB. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** How much of each body the log line shows. */
const BODY_PREVIEW_CHARS = 300;
/** Ids remembered to spot redeliveries; the oldest are forgotten first. */
const REMEMBERED_IDS = 10_000;

function fail(message: string): never {
  console.error(`receiver: ${message}`);
  process.exit(2);
}

/** A Webhook per accepted secret; the constructor rejects a secret that is not base64. */
function verifierFor(name: string, secret: string): Webhook {
  if (!secret.trim().startsWith("whsec_")) fail(`${name} must start with "whsec_"`);
  try {
    return new Webhook(secret.trim());
  } catch (err) {
    return fail(`${name} is not a valid signing secret: ${(err as Error).message}`);
  }
}

const current = process.env.WEBHOOK_SECRET;
if (!current) fail("set WEBHOOK_SECRET to the subscription's signing secret (whsec_...)");
const keys: { label: string; wh: Webhook }[] = [
  { label: "current", wh: verifierFor("WEBHOOK_SECRET", current) },
];
const previous = process.env.WEBHOOK_PREVIOUS_SECRET;
if (previous) keys.push({ label: "previous", wh: verifierFor("WEBHOOK_PREVIOUS_SECRET", previous) });

const port = Number(process.env.PORT ?? "8080");
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`PORT "${process.env.PORT}" is not a port number`);
const host = process.env.HOST ?? "0.0.0.0";

const seen = new Set<string>();

/** Verifies with each accepted secret in turn; the signature header may carry several signatures. */
function verify(
  body: Buffer,
  headers: Record<string, string>,
): { ok: true; key: string } | { ok: false; reason: string } {
  let reason = "no secret configured";
  for (const { label, wh } of keys) {
    try {
      // jsonParse: false: the body need not be JSON (a publisher may send any bytes), and a body
      // that is not JSON must not be mistaken for a bad signature.
      wh.verify(body, headers, { jsonParse: false });
      return { ok: true, key: label };
    } catch (err) {
      reason = (err as Error).message;
    }
  }
  return { ok: false, reason };
}

/** The body on one line, shortened: a log line per delivery, whatever the payload. */
function preview(body: Buffer): string {
  const text = body.toString("utf8").replace(/[\r\n]+/g, " ");
  return text.length > BODY_PREVIEW_CHARS ? `${text.slice(0, BODY_PREVIEW_CHARS)}…` : text;
}

function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    return;
  }
  if (req.method !== "POST") {
    res.writeHead(405, { allow: "POST" }).end();
    return;
  }
  // Node lower-cases header names; repeated headers arrive as arrays (set-cookie) or joined.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const id = headers["webhook-id"] ?? "-";
  const about = `id=${id} subject=${headers["hookstream-subject"] ?? "-"} subscription=${headers["hookstream-subscription"] ?? "-"}`;
  const result = verify(body, headers);
  if (!result.ok) {
    console.log(`verified=no ${about} reason=${JSON.stringify(result.reason)} body=${preview(body)}`);
    // 401 tells hookstream (and any other sender) that this request will never be accepted as is.
    res.writeHead(401, { "content-type": "text/plain" }).end(`signature not verified: ${result.reason}\n`);
    return;
  }
  const again = seen.has(id) ? " redelivery=yes" : "";
  seen.add(id);
  if (seen.size > REMEMBERED_IDS) seen.delete(seen.values().next().value as string);
  console.log(`verified=yes ${about} key=${result.key}${again} body=${preview(body)}`);
  // Answer fast: 2xx is all hookstream needs. Slow work belongs in a queue, after this response.
  res.writeHead(204).end();
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on("data", (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      tooLarge = true;
      res.writeHead(413, { connection: "close" }).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (!tooLarge) handle(req, res, Buffer.concat(chunks));
  });
});

server.on("error", (err) => fail(`cannot listen on ${host}:${port}: ${err.message}`));
server.listen(port, host, () => {
  const addr = server.address() as AddressInfo;
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  console.log(
    `listening on http://${shown}:${addr.port} (verifying with ${keys.length > 1 ? "the current and previous secrets" : "the current secret"})`,
  );
});

// Graceful shutdown: stop accepting, let requests under way finish, close idle keep-alive
// connections; give up on stragglers after a few seconds.
let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  const force = setTimeout(() => server.closeAllConnections(), 5_000);
  force.unref();
  server.close(() => {
    console.log("stopped");
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
