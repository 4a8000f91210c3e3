// The container image, without Docker (none runs here): replays the Dockerfile's runtime stage in a temporary
// directory (package files, `npm ci --omit=dev` exactly as the Dockerfile runs it, the built dist/ and crds/),
// then runs the entrypoint. The Dockerfile is parsed, so the steps replayed are the ones it really runs.
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { REPO_ROOT } from "../../bed/binaries.js";
import { run, runOk } from "./tools.js";

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions per stage (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): { from: string; name: string; steps: Instruction[] }[] {
  const logical = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const args = new Map<string, string>();
  const stages: { from: string; name: string; steps: Instruction[] }[] = [];
  for (const line of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read "${line}"`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!;
    if (op === "ARG" && stages.length === 0) {
      const [k, v = ""] = rest.split("=");
      args.set(k!, v);
    } else if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      const image = (f?.[1] ?? "").replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? "");
      stages.push({ from: image, name: f?.[2] ?? "", steps: [] });
    } else {
      stages.at(-1)?.steps.push({ op, args: rest });
    }
  }
  return stages;
}

const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"));
const runtime = dockerfile.at(-1)!;
const build = dockerfile[0]!;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };

/** The runtime stage's `npm ci ...` command, split into arguments (what the test runs, verbatim). */
function runtimeNpmCi(): string[] {
  const npmRun = runtime.steps.find((s) => s.op === "RUN" && /\bnpm ci\b/.test(s.args));
  if (!npmRun) throw new Error("the Dockerfile's runtime stage runs no `npm ci`");
  const command = npmRun.args.split("&&")[0]!.trim();
  return command.split(/\s+/).slice(1);
}

describe("Dockerfile", () => {
  it("builds on a Node LTS slim image and installs with the lockfile", () => {
    expect(dockerfile).toHaveLength(2);
    for (const stage of dockerfile) expect(stage.from).toMatch(/^node:(22|24)-bookworm-slim$/);
    expect(build.steps.some((s) => s.op === "RUN" && /^npm ci\b/.test(s.args))).toBe(true);
    expect(build.steps).toContainEqual({ op: "RUN", args: "npm run build" });
  });

  it("runs as the numeric non-root user the chart sets, with the operator as entrypoint", () => {
    const runtimeOps = runtime.steps.map((s) => `${s.op} ${s.args}`);
    expect(runtimeOps).toContain("COPY package.json package-lock.json ./");
    expect(runtimeNpmCi()).toEqual(expect.arrayContaining(["ci", "--omit=dev"]));
    expect(runtimeOps).toContain(`COPY --from=${build.name} /src/dist ./dist`);
    expect(runtimeOps).toContain("COPY crds ./crds");
    expect(runtimeOps).toContain("WORKDIR /app");
    expect(runtime.steps.filter((s) => s.op === "USER").map((s) => s.args)).toEqual(["65532:65532"]);
    expect(runtimeOps).toContain('ENTRYPOINT ["node", "/app/dist/main.js"]');
    expect(runtimeOps).toContain('CMD ["run"]');
    // USER comes after everything that needs root, and the entrypoint is the last word.
    const userAt = runtime.steps.findIndex((s) => s.op === "USER");
    expect(runtime.steps.slice(userAt).some((s) => s.op === "RUN" || s.op === "COPY")).toBe(false);
  });

  it("keeps the build context small", () => {
    const ignored = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of ["node_modules", "dist", ".git", "test", "bench", "coverage"]) {
      expect([entry, ignored.includes(entry)]).toEqual([entry, true]);
    }
    for (const needed of ["src", "crds", "package.json", "package-lock.json", "tsconfig.json"]) {
      expect([needed, ignored.includes(needed)]).toEqual([needed, false]);
    }
  });
});

describe("image contents, replayed without Docker", () => {
  const app = mkdtempSync(join(tmpdir(), "hookstream-image-"));
  const main = join(app, "dist", "main.js");

  beforeAll(async () => {
    // COPY package.json package-lock.json ./ ; RUN npm ci --omit=dev ... (the Dockerfile's own arguments)
    cpSync(join(REPO_ROOT, "package.json"), join(app, "package.json"));
    cpSync(join(REPO_ROOT, "package-lock.json"), join(app, "package-lock.json"));
    const ci = await run("npm", runtimeNpmCi(), { cwd: app });
    if (ci.code !== 0) {
      throw new Error(
        `\`npm ${runtimeNpmCi().join(" ")}\` (the Dockerfile's runtime step) failed, so the image would not build:\n` +
          ci.stderr
            .split("\n")
            .filter((l) => !/EBADENGINE|Unknown user config/.test(l))
            .slice(0, 15)
            .join("\n"),
      );
    }
    // The build stage's `npm run build` (tsc -p tsconfig.build.json), into the image's dist/.
    await runOk(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules/typescript/bin/tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        join(app, "dist"),
      ],
      { cwd: REPO_ROOT },
    );
    cpSync(join(REPO_ROOT, "crds"), join(app, "crds"), { recursive: true });
    // The `hookstream` command on the PATH (chmod 0755 and ln -s /app/dist/main.js /usr/local/bin/hookstream).
    chmodSync(main, 0o755);
    mkdirSync(join(app, "bin"));
    symlinkSync(main, join(app, "bin", "hookstream"));
  }, 240_000);

  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const inImage = (args: string[]) =>
    run(process.execPath, [main, ...args], {
      cwd: "/",
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production" },
    });

  it("holds production dependencies only", () => {
    // Every package the lockfile marks dev-only is absent (some devDependencies, like @types/node, are also
    // dependencies of production packages and rightly stay).
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && p.dev === true)
      .map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(["node_modules/jest", "node_modules/typescript"]));
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    expect(existsSync(join(app, "node_modules", "@kubernetes", "client-node"))).toBe(true);
  });

  it("prints the usage for --help and exits 0", async () => {
    const r = await inImage(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:");
    expect(r.stdout).toContain("hookstream run [flags]");
    expect(r.stdout).toContain("--nats-url");
  });

  it("rejects an unknown flag of run with exit 2, naming it", async () => {
    const r = await inImage(["run", "--nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--nope");
    expect(r.stderr).toContain("hookstream --help");
  });

  it("reports its version from the copied package.json", async () => {
    const r = await inImage(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("works as `hookstream` through the symlink on the PATH", async () => {
    const r = await run(join(app, "bin", "hookstream"), ["--help"], { cwd: "/" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:");
  });
});
