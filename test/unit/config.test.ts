import { describe, expect, it } from "@jest/globals";
import { ConfigError, loadConfig, usage } from "../../src/config.js";

describe("loadConfig", () => {
  it("has sane defaults", () => {
    const cfg = loadConfig([], {});
    expect(cfg.logLevel).toBe("info");
    expect(cfg.healthHost).toBe("0.0.0.0");
    expect(cfg.healthPort).toBe(8080);
    expect(cfg.shutdownTimeoutMs).toBe(25_000);
    expect(cfg.namespaces).toEqual([]);
    expect(cfg.nats.servers).toEqual(["nats://127.0.0.1:4222"]);
    expect(cfg.deliveryWorkers).toBe(1);
    expect(loadConfig(["--delivery-workers", "0"], {}).deliveryWorkers).toBe(0);
  });

  it("prefers flags to the environment, and the environment to defaults", () => {
    const env = {
      HOOKSTREAM_LOG_LEVEL: "warn",
      NATS_URL: "nats://a:1,nats://b:2",
      HOOKSTREAM_NAMESPACES: "x, y",
    };
    expect(loadConfig([], env).logLevel).toBe("warn");
    expect(loadConfig(["--log-level", "debug"], env).logLevel).toBe("debug");
    expect(loadConfig([], env).nats.servers).toEqual(["nats://a:1", "nats://b:2"]);
    expect(loadConfig([], env).namespaces).toEqual(["x", "y"]);
  });

  it.each([
    [["--nope"], /nope/],
    [["--log-level", "loud"], /--log-level.*"loud"/],
    [["--health-addr", "8080"], /--health-addr.*"8080"/],
    [["--health-addr", "x:99999"], /--health-addr/],
    [["--shutdown-timeout", "ten"], /--shutdown-timeout.*"ten"/],
    [["--nats-url", "http://x"], /--nats-url.*http:\/\/x/],
    [["--nats-tls-cert", "c.pem"], /--nats-tls-cert and --nats-tls-key/],
    [["--nats-user", "u"], /--nats-user and --nats-password/],
    [["--nats-token", "t", "--nats-creds", "f"], /at most one NATS authentication/],
    [["--delivery-workers=-1"], /--delivery-workers.*"-1".*0 to 64/],
    [["--delivery-workers", "65"], /--delivery-workers.*"65"/],
    [["positional"], /positional/i],
  ])("rejects %j with a message naming it", (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(message);
  });

  it("names the environment variable when the bad value came from there", () => {
    expect(() => loadConfig([], { HOOKSTREAM_LOG_LEVEL: "loud" })).toThrow(/env HOOKSTREAM_LOG_LEVEL/);
  });

  it("lists every flag in the usage text", () => {
    for (const flag of ["--kubeconfig", "--nats-url", "--health-addr", "--log-level"]) {
      expect(usage()).toContain(flag);
    }
  });
});
