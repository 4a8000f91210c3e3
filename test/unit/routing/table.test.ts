import { describe, expect, it } from "@jest/globals";
import { type CompiledFilter, compileFilter } from "../../../src/routing/filter.js";
import type { FilterEvent } from "../../../src/routing/filter-event.js";
import { type Route, RoutingTable, RoutingTableHolder, needsData } from "../../../src/routing/table.js";

function filter(source: string): CompiledFilter {
  const result = compileFilter(source);
  if (!result.ok) throw new Error(result.error);
  return result.filter;
}

function event(subject: string, data?: unknown): FilterEvent {
  return { subject, id: "e", time: new Date(0), headers: { "x-region": "eu" }, data };
}

const keys = (routes: readonly Route<unknown>[]): string[] => routes.map((r) => r.key).sort();

const ROUTES: Route<string>[] = [
  { key: "shop/all-orders", subjects: ["shop.orders.>"], target: "t1" },
  { key: "shop/big-orders", subjects: ["shop.orders.*"], filter: filter("data.total > 100"), target: "t2" },
  {
    key: "shop/eu",
    subjects: ["shop.*.created", "shop.orders.created"],
    filter: filter('headers["x-region"] == "eu"'),
    target: "t3",
  },
  { key: "billing/invoices", subjects: ["billing.invoices.created"], target: "t4" },
];

describe("RoutingTable", () => {
  const table = RoutingTable.build(ROUTES);

  it("counts routes and finds them by key", () => {
    expect(table.size).toBe(4);
    expect(table.get("shop/eu")?.target).toBe("t3");
    expect(table.get("shop/none")).toBeUndefined();
  });

  it("matches subjects only, each route once", () => {
    expect(keys(table.match("shop.orders.created"))).toEqual([
      "shop/all-orders",
      "shop/big-orders",
      "shop/eu",
    ]);
    expect(keys(table.match("shop.orders.eu.created"))).toEqual(["shop/all-orders"]);
    expect(keys(table.match("billing.invoices.created"))).toEqual(["billing/invoices"]);
    expect(table.match("shop.orders")).toEqual([]);
  });

  it("says whether matched routes need the payload parsed", () => {
    expect(needsData(table.match("shop.orders.created"))).toBe(true);
    expect(needsData(table.match("shop.refunds.created"))).toBe(false);
    expect(needsData(table.match("shop.orders.eu.created"))).toBe(false);
  });

  it("applies filters to the candidates", () => {
    const candidates = table.match("shop.orders.created");
    expect(keys(table.filter(candidates, event("shop.orders.created", { total: 150 })))).toEqual([
      "shop/all-orders",
      "shop/big-orders",
      "shop/eu",
    ]);
    expect(keys(table.filter(candidates, event("shop.orders.created", { total: 50 })))).toEqual([
      "shop/all-orders",
      "shop/eu",
    ]);
  });

  it("returns the candidates themselves when none has a filter", () => {
    const candidates = table.match("billing.invoices.created");
    expect(table.filter(candidates, event("billing.invoices.created"))).toBe(candidates);
  });

  it("reports filter errors per route and leaves those routes out", () => {
    const errors: [string, string][] = [];
    const routed = table.route(event("shop.orders.created", { count: 1 }), (route, error) =>
      errors.push([route.key, error]),
    );
    expect(keys(routed)).toEqual(["shop/all-orders", "shop/eu"]);
    expect(errors).toEqual([["shop/big-orders", expect.stringMatching(/total/) as unknown]]);
  });

  it("reports a needed but missing payload as a filter error", () => {
    const errors: string[] = [];
    const routed = table.route(event("shop.orders.paid"), (route) => errors.push(route.key));
    expect(keys(routed)).toEqual(["shop/all-orders"]);
    expect(errors).toEqual(["shop/big-orders"]);
  });

  it("is a snapshot: changing the input list later changes nothing", () => {
    const list = [...ROUTES];
    const snapshot = RoutingTable.build(list);
    list.pop();
    expect(snapshot.size).toBe(4);
    expect(Object.isFrozen(snapshot.routes)).toBe(true);
    expect(keys(snapshot.match("billing.invoices.created"))).toEqual(["billing/invoices"]);
  });

  it("gives every build a higher version", () => {
    const a = RoutingTable.build(ROUTES);
    const b = RoutingTable.build([]);
    expect(b.version).toBeGreaterThan(a.version);
    expect(a.version).toBeGreaterThan(table.version);
  });

  it("builds 10,000 routes quickly", () => {
    const many: Route<number>[] = Array.from({ length: 10_000 }, (_, i) => ({
      key: `ns${i % 50}/sub${i}`,
      subjects: [`svc${i % 100}.entity${i}.created`, `svc${i % 100}.*.deleted`],
      target: i,
    }));
    const started = performance.now();
    const big = RoutingTable.build(many);
    // Generous bound for a loaded CI machine; bench/routing.ts measures the real figure.
    expect(performance.now() - started).toBeLessThan(500);
    expect(big.size).toBe(10_000);
    expect(big.match("svc7.entity7.created").map((r) => r.target)).toEqual([7]);
    expect(big.match("svc7.anything.deleted")).toHaveLength(100);
  });
});

describe("RoutingTableHolder", () => {
  it("starts empty unless given a table", () => {
    const holder = new RoutingTableHolder<string>();
    expect(holder.current().size).toBe(0);
    expect(holder.current().match("shop.orders.created")).toEqual([]);
  });

  it("swaps in a newer snapshot while readers keep the one they took", () => {
    const first = RoutingTable.build(ROUTES.slice(0, 1));
    const holder = new RoutingTableHolder(first);
    const reader = holder.current();
    const second = RoutingTable.build(ROUTES);
    expect(holder.swap(second)).toBe(true);
    expect(holder.current()).toBe(second);
    expect(holder.current().version).toBeGreaterThan(first.version);
    expect(keys(reader.match("shop.orders.created"))).toEqual(["shop/all-orders"]);
    expect(keys(holder.current().match("shop.orders.created"))).toHaveLength(3);
  });

  it("refuses to roll back to an older snapshot", () => {
    const older = RoutingTable.build(ROUTES.slice(0, 1));
    const newer = RoutingTable.build(ROUTES);
    const holder = new RoutingTableHolder(newer);
    expect(holder.swap(older)).toBe(false);
    expect(holder.current()).toBe(newer);
  });
});
