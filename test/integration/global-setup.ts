import { startBed, type TestBed } from "../bed/bed.js";

declare global {
  var __HOOKSTREAM_BED__: TestBed | undefined;
}

/** One real test bed per run, shared by every integration test file through the environment. */
export default async function globalSetup(): Promise<void> {
  const bed = await startBed((msg) => console.log(`\n[testbed] ${msg}`));
  globalThis.__HOOKSTREAM_BED__ = bed;
  Object.assign(process.env, bed.env);
}
