export default async function globalTeardown() {
  await globalThis.__HOOKSTREAM_BED__?.stop();
}
