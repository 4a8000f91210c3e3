// Plain ESM: jest loads global setup outside its module mapper, so the TypeScript bed is loaded
// through tsx, the same way `npm run testbed` runs it.
import { tsImport } from "tsx/esm/api";

/** One real test bed per run, shared by every integration test file through the environment. */
export default async function globalSetup() {
  const { startBed } = await tsImport("../bed/bed.ts", import.meta.url);
  const bed = await startBed((msg) => console.log(`\n[testbed] ${msg}`));
  globalThis.__HOOKSTREAM_BED__ = bed;
  Object.assign(process.env, bed.env);
}
