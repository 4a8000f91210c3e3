export default async function globalTeardown(): Promise<void> {
  await globalThis.__HOOKSTREAM_BED__?.stop();
}
