/**
 * Routing benchmark: table build time, subject lookups per second, filter evaluations per second
 * and memory, for 10,000 subscriptions. Run: node --import tsx bench/routing.ts
 *
 * Figures are single-core and noisy on a shared machine; compare runs, not single numbers.
 */
import {
  type CompiledFilter,
  type FilterEvent,
  type Route,
  RoutingTable,
  SubjectIndex,
  compileFilter,
} from "../src/routing/index.js";

// Node, the tsx loader and the loaded modules (ESM imports run first), before any routes exist.
const rssAtStartMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
const ROUTES = 10_000;
const BUILDS = 9;
const RUN_MS = 2500;

const DOMAINS = [
  "shop", "billing", "crm", "inventory", "shipping", "payments", "auth", "search", "catalog", "notify",
  ...Array.from({ length: 40 }, (_, i) => `team${i}`),
]; // prettier-ignore
const ENTITIES = [
  "orders", "refunds", "invoices", "customers", "carts", "products", "stock", "parcels", "users", "sessions",
  "coupons", "reviews", "tickets", "accounts", "payouts", "returns", "quotes", "plans", "trials", "emails",
]; // prettier-ignore
const REGIONS = ["eu", "us", "ap", "uk", "ca", "br", "in", "jp"];
const EVENTS = [
  "created",
  "updated",
  "deleted",
  "paid",
  "shipped",
  "cancelled",
  "failed",
  "viewed",
  "opened",
  "closed",
];

/** Deterministic PRNG (mulberry32) so every run measures the same table and traffic. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const randomSubject = (): string[] => [pick(DOMAINS), pick(ENTITIES), pick(REGIONS), pick(EVENTS)];

/** About 60% exact subjects, 25% with `*`, 15% with `>`; about 10% of routes have a filter. */
function makePattern(): string {
  const tokens = randomSubject();
  const roll = random();
  if (roll < 0.6) return tokens.join(".");
  if (roll < 0.85) {
    tokens[random() < 0.5 ? 2 : 3] = "*";
    if (random() < 0.2) tokens[1] = "*";
    return tokens.join(".");
  }
  // `>` after domain.entity or domain.entity.region; a few whole-domain catch-alls.
  const depth = random() < 0.05 ? 1 : random() < 0.6 ? 2 : 3;
  return [...tokens.slice(0, depth), ">"].join(".");
}

function makeFilter(i: number): CompiledFilter {
  const sources = [
    `data.total > ${(i % 50) * 10}`,
    `headers["x-region"] == "eu" && data.total > ${i % 100}.5`,
    `has(data.customer) && data.customer.tier == "gold"`,
    `"vip" in data.tags`,
    `subject.endsWith(".created")`,
  ];
  const compiled = compileFilter(sources[i % sources.length]!);
  if (!compiled.ok) throw new Error(compiled.error);
  return compiled.filter;
}

function makeRoutes(): Route<number>[] {
  return Array.from({ length: ROUTES }, (_, i) => {
    const subjects = random() < 0.8 ? [makePattern()] : [makePattern(), makePattern()];
    const route: Route<number> = { key: `ns${i % 200}/sub-${i}`, subjects, target: i };
    return random() < 0.1 ? { ...route, filter: makeFilter(i) } : route;
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs `body` (which does `batch` operations and returns a checksum) for about RUN_MS. */
function rate(batch: number, body: () => number): { perSecond: number; checksum: number } {
  for (let i = 0; i < 20; i++) body(); // warm up the JIT
  let checksum = 0;
  let operations = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < RUN_MS) {
    checksum += body();
    operations += batch;
    elapsed = performance.now() - started;
  }
  return { perSecond: Math.round((operations / elapsed) * 1000), checksum };
}

const compileStarted = performance.now();
const routes = makeRoutes();
const prepareMs = performance.now() - compileStarted;
const filtered = routes.filter((r) => r.filter !== undefined).length;

let table = RoutingTable.build(routes);
const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
const buildTimes: number[] = [];
for (let i = 0; i < BUILDS; i++) {
  const started = performance.now();
  table = RoutingTable.build(routes);
  buildTimes.push(performance.now() - started);
}
const buildMs = median(buildTimes);

// Traffic: Zipf-distributed (s = 1.1) over all 80,000 possible subjects in random rank order, the
// usual model for event popularity: a few subjects carry most events, a long tail the rest.
const universe = DOMAINS.flatMap((d) =>
  ENTITIES.flatMap((e) => REGIONS.flatMap((r) => EVENTS.map((v) => `${d}.${e}.${r}.${v}`))),
);
for (let i = universe.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [universe[i], universe[j]] = [universe[j]!, universe[i]!];
}
const cumulative: number[] = [];
let weight = 0;
for (let rank = 1; rank <= universe.length; rank++) cumulative.push((weight += 1 / rank ** 1.1));
function zipfSubject(): string {
  const target = random() * weight;
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (cumulative[mid]! < target) low = mid + 1;
    else high = mid;
  }
  return universe[low]!;
}
const traffic = Array.from({ length: 65_536 }, zipfSubject);
const distinct = new Set(traffic).size;
const mask = traffic.length - 1;

function lookups(index: { match(subject: string): readonly unknown[] }, subjects: readonly string[]) {
  let position = 0;
  return rate(10_000, () => {
    let found = 0;
    for (let i = 0; i < 10_000; i++) found += index.match(subjects[position++ & mask]!).length;
    return found;
  });
}

const cached = lookups(table, traffic);
const uncachedIndex = new SubjectIndex(
  routes.flatMap((route) => route.subjects.map((pattern) => ({ pattern, value: route }))),
  { cacheSize: 0 },
);
const uncached = lookups(uncachedIndex, traffic);
// Subjects decoded from the wire are new string objects whose hash V8 has not computed yet. Make
// fresh copies outside the timed region, then time lookups on them.
const freshRate = (() => {
  let found = 0;
  let operations = 0;
  let elapsed = 0;
  for (let round = 0; elapsed < RUN_MS; round++) {
    const batch = traffic
      .slice((round * 8192) & mask, ((round * 8192) & mask) + 8192)
      .map((s) => Buffer.from(s).toString());
    const started = performance.now();
    for (const subject of batch) found += table.match(subject).length;
    elapsed += performance.now() - started;
    operations += batch.length;
  }
  return { perSecond: Math.round((operations / elapsed) * 1000), checksum: found };
})();

const typical = compileFilter('data.total > 100 && headers["x-region"] == "eu"');
if (!typical.ok) throw new Error(typical.error);
const events: FilterEvent[] = Array.from({ length: 64 }, (_, i) => ({
  subject: "shop.orders.eu.created",
  id: `evt-${i}`,
  time: new Date(1_700_000_000_000 + i),
  headers: { "x-region": i % 3 === 0 ? "us" : "eu", "content-type": "application/json" },
  data: JSON.parse(
    `{"total": ${i * 5}, "customer": {"tier": "gold"}, "tags": ["vip"], "items": [{"sku": "A"}]}`,
  ) as unknown,
}));
const filterRate = rate(1_000, () => {
  let matched = 0;
  for (let i = 0; i < 1_000; i++) if (typical.filter.evaluate(events[i & 63]!).match) matched++;
  return matched;
});

const sample = table.match("shop.orders.eu.created");
const sizes = traffic.slice(0, 10_000).map((s) => table.match(s).length);
console.log(`routes ${table.size} (${filtered} with a filter), table version ${table.version}`);
console.log(`route generation incl. ${filtered} filter compilations: ${prepareMs.toFixed(1)} ms`);
console.log(
  `table build: median ${buildMs.toFixed(2)} ms of ${BUILDS} (min ${Math.min(...buildTimes).toFixed(2)}, max ${Math.max(...buildTimes).toFixed(2)})`,
);
console.log(
  `traffic: ${traffic.length} lookups cycled, ${distinct} distinct subjects (Zipf over ${universe.length})`,
);
console.log(
  `routes per lookup: mean ${(sizes.reduce((a, b) => a + b, 0) / sizes.length).toFixed(2)}, max ${Math.max(...sizes)}, "shop.orders.eu.created" -> ${sample.length}`,
);
console.log(`lookups/s (result cache on, realistic mix): ${cached.perSecond} (checksum ${cached.checksum})`);
console.log(`lookups/s (result cache off, trie only): ${uncached.perSecond} (checksum ${uncached.checksum})`);
console.log(
  `lookups/s (cache on, new subject string per lookup): ${freshRate.perSecond} (checksum ${freshRate.checksum})`,
);
console.log(
  `filter evaluations/s (${typical.filter.source}): ${filterRate.perSecond} (checksum ${filterRate.checksum})`,
);
console.log(
  `rss before routes (node, tsx, modules): ${rssAtStartMb} MB; after build: ${rssMb} MB; at end: ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB`,
);
console.log(
  `summary lookups_per_s=${cached.perSecond} build_ms=${buildMs.toFixed(2)} filter_evals_per_s=${filterRate.perSecond} rss_mb=${rssMb}`,
);
