import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { KubeConfig } from "@kubernetes/client-node";
import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici";
import { parseAllDocuments } from "yaml";
import type { WebhookSubscription } from "../../../src/api/types.js";
import { compileFilter, patternMatches } from "../../../src/routing/index.js";
import type { RunningOperator } from "../../../src/run.js";
import { generateSecret, parseSecret } from "../../../src/signing/index.js";
import { REPO_ROOT } from "../../bed/binaries.js";
import { bedEnv, uniqueName } from "../env.js";
import { KubeHelper } from "../helpers/kube.js";
import { streamNames } from "../helpers/nats.js";
import { startTestOperator } from "../helpers/operator.js";
import { waitFor } from "../helpers/wait.js";

const execFileAsync = promisify(execFile);

const EXAMPLES = join(REPO_ROOT, "examples");
const SUBSCRIPTIONS = join(EXAMPLES, "subscriptions");
const SECRETS = join(EXAMPLES, "secrets");

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

interface SecretObj extends Obj {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Every document of every YAML file in a folder, in file order; YAML errors (duplicate keys too) fail. */
function load(dir: string): { file: string; obj: Obj }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8"))
        .map((doc) => {
          if (doc.errors.length > 0)
            throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
          return { file, obj: doc.toJS() as Obj };
        })
        // A file may end in a document of comments only (see 02-bearer-token.yaml).
        .filter((d) => d.obj !== null),
    );
}

const secretDocs = load(SECRETS);
const subscriptionDocs = load(SUBSCRIPTIONS);
const subscriptions = subscriptionDocs.map((d) => d.obj as unknown as WebhookSubscription);
const secrets = secretDocs.map((d) => d.obj).filter((o): o is SecretObj => o.kind === "Secret");

function basic(): WebhookSubscription {
  const doc = subscriptionDocs.find((d) => d.file === "01-basic.yaml");
  if (!doc) throw new Error("examples/subscriptions/01-basic.yaml is missing");
  return structuredClone(doc.obj) as unknown as WebhookSubscription;
}

/** The value of a Secret key, as the API server would store it. */
function secretValue(name: string, key: string): string | undefined {
  const s = secrets.find((x) => x.metadata.name === name);
  if (!s) return undefined;
  if (s.stringData?.[key] !== undefined) return s.stringData[key];
  const b64 = s.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
}

// ---------------------------------------------------------------------------------------------
// Raw requests to the bed's API server. Raw, not client-node's typed APIs: their serializers drop
// fields they have no model for, and a misspelled field is exactly what strict validation must see.

const PLURALS: Record<string, string> = {
  Namespace: "namespaces",
  Secret: "secrets",
  WebhookSubscription: "webhooksubscriptions",
};

function apiServer(): { url: string; token: string; dispatcher: Agent } {
  const kc = new KubeConfig();
  kc.loadFromFile(bedEnv("HOOKSTREAM_TEST_KUBECONFIG"));
  const cluster = kc.getCurrentCluster();
  const token = kc.getCurrentUser()?.token;
  if (!cluster?.caFile || !token) throw new Error("the bed's kubeconfig has no CA file or token");
  return {
    url: cluster.server,
    token,
    dispatcher: new Agent({ connect: { ca: readFileSync(cluster.caFile) } }),
  };
}

/** POST (create) of a manifest as is, with server-side dry run and strict field validation. */
async function postManifest(
  api: ReturnType<typeof apiServer>,
  obj: Obj,
  dryRun = true,
): Promise<{ status: number; body: string }> {
  const plural = PLURALS[obj.kind];
  if (!plural) throw new Error(`the test does not know kind ${obj.kind}: add it to PLURALS`);
  const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = obj.kind === "Namespace" ? "" : `/namespaces/${obj.metadata.namespace ?? "default"}`;
  const query = `fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`;
  const res = await request(`${api.url}${base}${ns}/${plural}?${query}`, {
    method: "POST",
    dispatcher: api.dispatcher,
    headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json" },
    body: JSON.stringify(obj),
  });
  return { status: res.statusCode, body: await res.body.text() };
}

/** Server-side apply of a cluster-scoped manifest with dry run and strict field validation. */
async function applyManifest(
  api: ReturnType<typeof apiServer>,
  obj: Obj,
): Promise<{ status: number; body: string }> {
  const plural = PLURALS[obj.kind];
  const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const query = "fieldValidation=Strict&dryRun=All&fieldManager=examples-test";
  const res = await request(`${api.url}${base}/${plural}/${obj.metadata.name}?${query}`, {
    method: "PATCH",
    dispatcher: api.dispatcher,
    headers: { authorization: `Bearer ${api.token}`, "content-type": "application/apply-patch+yaml" },
    body: JSON.stringify(obj),
  });
  return { status: res.statusCode, body: await res.body.text() };
}

describe("examples: the manifests", () => {
  const api = apiServer();
  afterAll(async () => {
    await api.dispatcher.close();
  });

  it("has one commented subscription per feature and the Secrets they need, all in namespace shop", () => {
    expect(subscriptionDocs.map((d) => d.file)).toEqual([
      "01-basic.yaml",
      "02-cel-filter.yaml",
      "03-secret-rotation.yaml",
      "04-bearer-auth.yaml",
      "05-mtls.yaml",
      "06-dead-letter.yaml",
      "07-paused.yaml",
      "08-rate-limit.yaml",
    ]);
    for (const file of readdirSync(SUBSCRIPTIONS)) {
      expect(readFileSync(join(SUBSCRIPTIONS, file), "utf8")).toMatch(/^# /);
    }
    const namespaces = secretDocs.map((d) => d.obj).filter((o) => o.kind === "Namespace");
    expect(namespaces.map((n) => n.metadata.name)).toEqual(["shop"]);
    for (const { file, obj } of [...secretDocs, ...subscriptionDocs]) {
      if (obj.kind !== "Namespace") expect(`${file}: ${obj.metadata.namespace}`).toBe(`${file}: shop`);
    }
    for (const s of subscriptions) {
      expect(s.spec.endpoint.url).toMatch(/^https?:\/\/webhook-receiver\.shop\.svc:\d+\/hooks$/);
    }
  });

  it("names in examples/README.md every file there is", () => {
    const readme = readFileSync(join(EXAMPLES, "README.md"), "utf8");
    const files = [
      ...readdirSync(SECRETS).map((f) => `secrets/${f}`),
      ...readdirSync(SUBSCRIPTIONS).map((f) => `subscriptions/${f}`),
      ...readdirSync(join(EXAMPLES, "receiver")).map((f) => `receiver/${f}`),
      ...readdirSync(join(EXAMPLES, "publish")).map((f) => `publish/${f}`),
    ];
    expect(files.filter((f) => !readme.includes(f))).toEqual([]);
  });

  it("references only Secrets and keys that examples/secrets defines, with valid signing secrets", () => {
    const refs: { sub: string; name: string; key: string; signing?: boolean }[] = [];
    for (const s of subscriptions) {
      const sub = s.metadata.name!;
      const sg = s.spec.signing;
      if (sg) {
        refs.push({ sub, name: sg.secretRef.name, key: sg.secretRef.key ?? "secret", signing: true });
        if (sg.previousSecretRef) {
          const p = sg.previousSecretRef;
          refs.push({ sub, name: p.name, key: p.key ?? "secret", signing: true });
        }
      }
      const auth = s.spec.endpoint.auth;
      if (auth?.bearer)
        refs.push({ sub, name: auth.bearer.secretRef.name, key: auth.bearer.secretRef.key ?? "token" });
      if (auth?.basic) {
        refs.push({ sub, name: auth.basic.secretRef.name, key: "username" });
        refs.push({ sub, name: auth.basic.secretRef.name, key: "password" });
      }
      const tls = s.spec.endpoint.tls;
      if (tls?.caBundle)
        refs.push({ sub, name: tls.caBundle.secretRef.name, key: tls.caBundle.secretRef.key ?? "ca.crt" });
      if (tls?.clientCertificate) {
        refs.push({ sub, name: tls.clientCertificate.secretRef.name, key: "tls.crt" });
        refs.push({ sub, name: tls.clientCertificate.secretRef.name, key: "tls.key" });
      }
    }
    expect(refs.length).toBeGreaterThan(subscriptions.length);
    for (const r of refs) {
      const value = secretValue(r.name, r.key);
      expect(`${r.sub} -> ${r.name}/${r.key}: ${value === undefined ? "missing" : "present"}`).toBe(
        `${r.sub} -> ${r.name}/${r.key}: present`,
      );
      if (r.signing) expect(parseSecret(value!)).toMatchObject({ ok: true });
    }
    const tlsSecret = secrets.find((s) => s.metadata.name === "hookstream-client-tls");
    expect(tlsSecret?.type).toBe("kubernetes.io/tls");
  });

  it("means what the comments of 01-basic.yaml and 02-cel-filter.yaml say", () => {
    const patterns = basic().spec.subjects;
    const matches = (subject: string) => patterns.some((p) => patternMatches(p, subject));
    for (const s of [
      "shop.orders.created",
      "shop.orders.o-1001.paid",
      "shop.refunds.issued",
      "shop.refunds.r-7.issued",
    ])
      expect(`${s}: ${matches(s)}`).toBe(`${s}: true`);
    for (const s of ["shop.orders.paid", "shop.orders.eu.o-1001.paid", "shop.refunds", "shop.inventory.low"])
      expect(`${s}: ${matches(s)}`).toBe(`${s}: false`);

    const filter = subscriptions.find((s) => s.metadata.name === "big-eu-orders")?.spec.filter;
    const compiled = compileFilter(filter ?? "");
    if (!compiled.ok) throw new Error(`02-cel-filter.yaml: ${compiled.error}`);
    const evaluate = (data: unknown, headers: Record<string, string>) =>
      compiled.filter.evaluate({ subject: "shop.orders.created", id: "x", time: new Date(), headers, data });
    expect(evaluate({ total: 120 }, { "x-region": "eu" })).toEqual({ match: true });
    expect(evaluate({ total: 80 }, { "x-region": "eu" })).toEqual({ match: false });
    expect(evaluate({ total: 120 }, { "x-region": "us" })).toEqual({ match: false });
    // The guards the comment explains: a missing field or header is a plain non-match, not an error.
    expect(evaluate({ total: 120 }, {})).toEqual({ match: false });
    expect(evaluate({ amount: 120 }, { "x-region": "eu" })).toEqual({ match: false });
  });

  it("is accepted, every one of them, by the real API server (server-side dry run, strict field validation)", async () => {
    // Namespaced objects can only be dry-run into a namespace that exists: the Namespace manifest is
    // dry-run first, then created for real.
    const namespaces = secretDocs.filter((d) => d.obj.kind === "Namespace");
    for (const { file, obj } of namespaces) {
      let res = await postManifest(api, obj);
      // Another test (the README quickstart) may have created it already: then validate the same
      // manifest by a server-side dry-run apply, which checks it just as strictly.
      if (res.status === 409) res = await applyManifest(api, obj);
      expect(`${file}: ${res.status} ${res.status < 300 ? "" : res.body}`).toMatch(
        new RegExp(`^${file}: 20[01] $`),
      );
      const created = await postManifest(api, obj, false);
      expect([201, 409]).toContain(created.status);
    }
    const rest = [...secretDocs, ...subscriptionDocs].filter((d) => d.obj.kind !== "Namespace");
    expect(rest.length).toBeGreaterThanOrEqual(8 + 4);
    for (const { file, obj } of rest) {
      const res = await postManifest(api, obj);
      expect(
        `${file} ${obj.kind}/${obj.metadata.name}: ${res.status} ${res.status === 201 ? "" : res.body}`,
      ).toBe(`${file} ${obj.kind}/${obj.metadata.name}: 201 `);
    }
  });

  it("would notice a manifest that rots: a misspelled field is rejected by the same check", async () => {
    const typo = basic() as unknown as Obj & { spec: Record<string, unknown> };
    typo.spec.pasued = true;
    const res = await postManifest(api, typo);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).toContain("pasued");
    const secret = { ...structuredClone(secrets[0]!), stringdata: { secret: "x" } };
    const res2 = await postManifest(api, secret);
    expect(res2.status).toBeGreaterThanOrEqual(400);
    expect(res2.body).toContain("stringdata");
  });
});

// ---------------------------------------------------------------------------------------------
// The example receiver and publisher, as child processes, against a real operator.

interface ChildRun {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function runExample(script: string, env: Record<string, string>, args: string[] = []): ChildRun {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (l) => lines.push(l));
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, lines, exited };
}

async function publishWithScript(
  subjects: string[],
  idPrefix: string,
): Promise<{ id: string; subject: string }[]> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ["--import", "tsx", "examples/publish/publish.ts", "--id-prefix", idPrefix, ...subjects],
    { cwd: REPO_ROOT, env: { ...process.env, NATS_URL: bedEnv("HOOKSTREAM_TEST_NATS_URL") } },
  );
  return [...stdout.matchAll(/^published id=(\S+) subject=(\S+) stream=\S+ seq=\d+$/gm)].map((m) => ({
    id: m[1]!,
    subject: m[2]!,
  }));
}

describe("examples: the receiver verifies real deliveries of 01-basic.yaml, published with publish.ts", () => {
  const k = new KubeHelper();
  const names = streamNames("ex");
  const previousSecret = generateSecret();
  let ns: string;
  let op: RunningOperator;
  let secret: string;
  let receiver: ChildRun;
  let port: number;
  const sub = basic();
  /** The example's patterns live under this test's own stream prefix (see streamNames). */
  const prefixed = (subject: string) => `${names.base}.${subject}`;
  const receiverLine = (id: string) => receiver.lines.find((l) => l.includes(` id=${id} `));

  beforeAll(async () => {
    ns = await k.namespace("ex");
    op = await startTestOperator({ namespaces: [ns], streams: names, args: ["--status-interval", "1s"] });
    await waitFor("leadership", () => op.isLeader(), 15_000);
    secret = await k.signingSecret(ns, sub.spec.signing!.secretRef.name);
    receiver = runExample("examples/receiver/receiver.ts", {
      PORT: "0",
      HOST: "127.0.0.1",
      WEBHOOK_SECRET: secret,
      WEBHOOK_PREVIOUS_SECRET: previousSecret,
    });
    const listening = await waitFor(
      "the receiver to listen",
      () =>
        receiver.lines.map((l) => /^listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(l)?.[1]).find((p) => p),
      20_000,
    );
    port = Number(listening);
  }, 60_000);
  afterAll(async () => {
    if (receiver && receiver.child.exitCode === null) receiver.child.kill("SIGKILL");
    await op?.stop();
  });

  it("verifies every delivery of the example subscription, and gets none for an unmatched subject", async () => {
    sub.metadata.namespace = ns;
    sub.spec.subjects = sub.spec.subjects.map(prefixed);
    sub.spec.endpoint.url = `http://127.0.0.1:${port}/hooks`;
    await k.custom.createNamespacedCustomObject({
      group: "hookstream.io",
      version: "v1alpha1",
      namespace: ns,
      plural: "webhooksubscriptions",
      body: sub,
    });
    const name = sub.metadata.name!;
    await waitFor(`${name} Ready`, async () => (await k.ready(ns, name)).status === "True", 15_000);

    const idPrefix = uniqueName("ex");
    const matching = ["shop.orders.created", "shop.orders.o-1001.paid", "shop.refunds.r-1001.issued"].map(
      prefixed,
    );
    const unmatched = prefixed("shop.inventory.low");
    const published = await publishWithScript([...matching, unmatched], idPrefix);
    expect(published).toEqual(
      [...matching, unmatched].map((subject, i) => ({ id: `${idPrefix}-${i + 1}`, subject })),
    );

    const delivered = published.slice(0, 3);
    await waitFor(
      "verified lines for every matching event",
      () => delivered.every((e) => receiverLine(e.id)),
      20_000,
    );
    for (const e of delivered) {
      expect(receiverLine(e.id)).toMatch(
        new RegExp(
          `^verified=yes id=${e.id} subject=${e.subject.replace(/\./g, "\\.")} subscription=${ns}/${name} key=current body=\\{`,
        ),
      );
    }
    const status = await waitFor("status counters", async () => {
      const s = (await k.getSubscription(ns, name)).status;
      return s?.deliveries?.succeeded === 3 && s;
    });
    expect(status.lastAttempt?.statusCode).toBe(204);
    // By now the unmatched event, published last, would have arrived had it been routed.
    expect(receiverLine(published[3]!.id)).toBeUndefined();
    expect(receiver.lines.filter((l) => l.startsWith("verified=no"))).toEqual([]);
  }, 60_000);

  /** A delivery as hookstream makes it, signed by the given secret; the receiver's answer and log line. */
  async function post(signingSecret: string, body: string, sentBody = body) {
    const id = uniqueName("manual");
    const ts = new Date();
    const res = await fetch(`http://127.0.0.1:${port}/hooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
        "webhook-signature": new Webhook(signingSecret).sign(id, ts, body),
        "hookstream-subject": "shop.orders.created",
      },
      body: sentBody,
    });
    const line = await waitFor(`the receiver's line for ${id}`, () => receiverLine(id));
    return { status: res.status, line };
  }

  it("answers 401 to a delivery signed with the wrong secret, or whose body was altered", async () => {
    const wrong = await post(generateSecret(), '{"total":120}');
    expect(wrong.status).toBe(401);
    expect(wrong.line).toMatch(
      /^verified=no id=manual-\S+ subject=shop\.orders\.created .*reason="No matching signature found"/,
    );
    const altered = await post(secret, '{"total":120}', '{"total":1200}');
    expect(altered.status).toBe(401);
    expect(altered.line).toMatch(/^verified=no /);
    const notJson = await post(secret, "plain text, not JSON");
    expect(notJson.status).toBe(204);
  });

  it("accepts WEBHOOK_PREVIOUS_SECRET too, for a rotation", async () => {
    const res = await post(previousSecret, '{"rotated":true}');
    expect(res.status).toBe(204);
    expect(res.line).toMatch(/^verified=yes .* key=previous body=\{"rotated":true\}$/);
  });

  it("shuts down gracefully on SIGTERM", async () => {
    receiver.child.kill("SIGTERM");
    expect(await receiver.exited).toBe(0);
    expect(receiver.lines.slice(-2)).toEqual(["SIGTERM: shutting down", "stopped"]);
  });
});

describe("examples: the receiver and publisher explain what is wrong", () => {
  it("the receiver refuses to start without a usable WEBHOOK_SECRET", async () => {
    const missing = runExample("examples/receiver/receiver.ts", { PORT: "0", WEBHOOK_SECRET: "" });
    expect(await missing.exited).toBe(2);
    expect(missing.lines.join("\n")).toContain("set WEBHOOK_SECRET");
    const bad = runExample("examples/receiver/receiver.ts", { PORT: "0", WEBHOOK_SECRET: "not-a-secret" });
    expect(await bad.exited).toBe(2);
    expect(bad.lines.join("\n")).toContain('must start with "whsec_"');
  });

  it("publish.ts says which subject has no stream", async () => {
    const run = runExample("examples/publish/publish.ts", { NATS_URL: bedEnv("HOOKSTREAM_TEST_NATS_URL") }, [
      `${uniqueName("nostream").replace(/-/g, "_")}.x`,
    ]);
    expect(await run.exited).toBe(1);
    expect(run.lines.join("\n")).toMatch(
      /publishing on nostream_\S+\.x failed: .*Is there a stream for this subject\?/,
    );
  });
});
