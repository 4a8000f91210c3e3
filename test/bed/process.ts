import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, createWriteStream, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A port that was free a moment ago (the OS picks it); the small race is acceptable on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface BedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts a server with its output in DIR/NAME.log and its PID in DIR/pids, where the bed's janitor
 * finds it if this process dies before it can stop it.
 */
export function startProcess(dir: string, name: string, cmd: string, args: string[]): BedProcess {
  const logFile = join(dir, `${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  if (child.pid) appendFileSync(join(dir, "pids"), `${child.pid}\n`);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    name,
    child,
    logFile,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      // Unref'd: a pending grace timer must not keep the test runner alive after the process exited.
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), 10_000);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** The last lines of a server's log, for error messages. */
export function logTail(proc: BedProcess, lines = 30): string {
  if (!existsSync(proc.logFile)) return "";
  return readFileSync(proc.logFile, "utf8").split("\n").slice(-lines).join("\n");
}

/** Polls until probe() is true; fails early with the log when the process exits. */
export async function waitUntil(
  proc: BedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${proc.name} exited before ${what}:\n${logTail(proc)}`);
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${proc.name}: timed out after ${timeoutMs} ms waiting for ${what}:\n${logTail(proc)}`);
}
