// `npm run bench`: every benchmark, each in its own process so memory figures stay separate.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
let failed = false;
for (const name of ["routing", "signing", "delivery"]) {
  console.log(`\n=== bench/${name}.ts ===`);
  const r = spawnSync(process.execPath, ["--import", "tsx", `${here}${name}.ts`], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`bench/${name}.ts exited with ${r.status}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
