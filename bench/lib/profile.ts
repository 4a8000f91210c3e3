// CPU profile of a benchmark phase with the inspector, summarised as the functions with the most
// self time: what bounds the throughput. Enabled by BENCH_CPU_PROFILE=<file>.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

export async function profiled<T>(file: string | undefined, run: () => Promise<T>): Promise<T> {
  if (!file) return run();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  const result = await run();
  const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  console.log(`cpu profile written to ${file}; top self time:`);
  for (const line of topSelfTime(profile, 20)) console.log(`  ${line}`);
  return result;
}

export function topSelfTime(profile: Profile, n: number): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const f = byId.get(id)?.callFrame;
    if (!f) continue;
    const where = f.url ? `${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length || 1;
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, c]) => `${((100 * c) / total).toFixed(1).padStart(5)}%  ${k}`);
}
