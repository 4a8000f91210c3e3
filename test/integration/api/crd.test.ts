// What users see of the CRD on a real API server: kubectl explain (and the OpenAPI v3 document it
// reads), the status subresource and the printer columns of `kubectl get whs`.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Agent, request, type Dispatcher } from "undici";
import { webhookSubscriptionSchema, type JSONSchemaProps } from "../../../src/api/schema.js";
import type { WebhookSubscription, WebhookSubscriptionStatus } from "../../../src/api/types.js";
import { bedEnv, bedKubeConfig, uniqueName } from "../env.js";

interface Reply {
  status: number;
  body: unknown;
}

function rawClient() {
  const kc = bedKubeConfig();
  const cluster = kc.getCurrentCluster();
  const token = kc.getCurrentUser()?.token;
  if (!cluster?.caFile || !token) throw new Error("the bed kubeconfig has no CA file or token");
  const dispatcher = new Agent({ connect: { ca: readFileSync(cluster.caFile) } });
  const call = async (
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const res = await request(`${cluster.server}${path}`, {
      method,
      dispatcher,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: await res.body.json() };
  };
  return { call, close: () => dispatcher.close() };
}

/** The directory on PATH that holds an executable `name`, if any. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

const squash = (text: string) => text.replace(/\s+/g, " ").trim();
const scheduleSchema = webhookSubscriptionSchema.properties?.spec?.properties?.delivery?.properties?.retry
  ?.properties?.schedule as JSONSchemaProps;
const scheduleDescription = scheduleSchema.description ?? "";

const BASE = "/apis/hookstream.io/v1alpha1";

describe("the WebhookSubscription CRD as users see it", () => {
  const api = rawClient();
  const ns = uniqueName("api-crd");

  beforeAll(async () => {
    expect((await api.call("POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(async () => {
    await api.call("DELETE", `/api/v1/namespaces/${ns}`);
    await api.close();
  });

  it("publishes the field descriptions in the OpenAPI v3 document", async () => {
    expect(scheduleDescription.length).toBeGreaterThan(50);
    // The OpenAPI controller publishes a new CRD asynchronously: wait for it.
    let retry: JSONSchemaProps | undefined;
    const deadline = Date.now() + 30_000;
    while (!retry) {
      const res = await api.call("GET", "/openapi/v3/apis/hookstream.io/v1alpha1");
      const doc = res.body as { components?: { schemas?: Record<string, JSONSchemaProps> } };
      retry =
        doc.components?.schemas?.["io.hookstream.v1alpha1.WebhookSubscription"]?.properties?.spec?.properties
          ?.delivery?.properties?.retry;
      if (!retry && Date.now() > deadline) throw new Error(`no retry schema published: ${res.status}`);
      if (!retry) await sleep(250);
    }
    expect(retry.properties?.schedule?.description).toBe(scheduleDescription);
    expect(retry.properties?.schedule?.default).toEqual(scheduleSchema.default);
    expect(retry.properties?.jitter?.description).toContain("Default: 0.2");
  });

  const kubectl = onPath("kubectl");
  (kubectl ? it : it.skip)(
    "kubectl explain whs.spec.delivery.retry shows the schedule's description",
    async () => {
      const { stdout } = await promisify(execFile)(
        kubectl!,
        ["--kubeconfig", bedEnv("HOOKSTREAM_TEST_KUBECONFIG"), "explain", "whs.spec.delivery.retry"],
        { timeout: 60_000 },
      );
      const out = squash(stdout);
      expect(out).toContain("KIND: WebhookSubscription");
      expect(out).toContain("schedule <[]string>");
      expect(out).toContain(squash(scheduleDescription));
    },
  );

  it("lets the operator write a full status through the subresource and prints it in columns", async () => {
    const collection = `${BASE}/namespaces/${ns}/webhooksubscriptions`;
    const sub: WebhookSubscription = {
      apiVersion: "hookstream.io/v1alpha1",
      kind: "WebhookSubscription",
      metadata: { name: "columns" },
      spec: { subjects: ["shop.orders.created"], endpoint: { url: "https://example.com/hook" } },
    };
    expect((await api.call("POST", `${collection}?fieldValidation=Strict`, sub)).status).toBe(201);

    // status is ignored on create and on the main resource: only the subresource writes it.
    const status: WebhookSubscriptionStatus = {
      observedGeneration: 1,
      conditions: [
        {
          type: "Ready",
          status: "True",
          observedGeneration: 1,
          lastTransitionTime: "2030-01-01T00:00:00Z",
          reason: "Delivering",
          message: "",
        },
      ],
      endpointState: "Active",
      deliveries: { succeeded: 1204, failed: 3, retrying: 1, deadLettered: 0 },
      lastAttempt: { time: "2030-01-01T00:00:00Z", eventId: "evt-1", statusCode: 204, durationMs: 3 },
      lastSuccessTime: "2030-01-01T00:00:00Z",
      routes: 1,
    };
    const patched = await api.call(
      "PATCH",
      `${collection}/columns/status?fieldValidation=Strict`,
      { status },
      { "content-type": "application/merge-patch+json" },
    );
    expect({ code: patched.status, status: (patched.body as WebhookSubscription).status }).toEqual({
      code: 200,
      status,
    });

    const table = await api.call("GET", `${collection}/columns`, undefined, {
      accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
    });
    const body = table.body as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(body.columnDefinitions.map((c) => c.name)).toEqual([
      "Name",
      "Ready",
      "Reason",
      "Endpoint",
      "Succeeded",
      "Failed",
      "Last Code",
      "Age",
    ]);
    expect(body.rows[0]?.cells.slice(0, 7)).toEqual([
      "columns",
      "True",
      "Delivering",
      "Active",
      1204,
      3,
      204,
    ]);
  });

  it("rejects a status outside the schema, naming the field", async () => {
    const collection = `${BASE}/namespaces/${ns}/webhooksubscriptions`;
    const sub = {
      apiVersion: "hookstream.io/v1alpha1",
      kind: "WebhookSubscription",
      metadata: { name: "bad-status" },
      spec: { subjects: ["a"], endpoint: { url: "https://example.com/hook" } },
    };
    expect((await api.call("POST", collection, sub)).status).toBe(201);
    const res = await api.call(
      "PATCH",
      `${collection}/bad-status/status`,
      { status: { endpointState: "Broken" } },
      { "content-type": "application/merge-patch+json" },
    );
    expect(res.status).toBe(422);
    expect((res.body as { message: string }).message).toContain("status.endpointState: Unsupported value");
  });
});
