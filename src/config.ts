import { parseArgs } from "node:util";
import type { LevelWithSilent } from "pino";
import { parseDuration } from "./api/duration.js";
import { LOG_LEVELS } from "./observability/logger.js";

/** Everything `hookstream run` needs, resolved from flags, then environment, then defaults. */
export interface Config {
  kubeconfig: string | undefined;
  /** Namespaces to watch; empty means all. */
  namespaces: string[];
  logLevel: LevelWithSilent;
  healthHost: string;
  healthPort: number;
  shutdownTimeoutMs: number;
  nats: NatsConfig;
}

export interface NatsConfig {
  servers: string[];
  credsFile: string | undefined;
  nkeySeedFile: string | undefined;
  user: string | undefined;
  password: string | undefined;
  token: string | undefined;
  tlsCaFile: string | undefined;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

interface Option {
  flag: string;
  env: string;
  help: string;
  default?: string;
  boolean?: boolean;
}

/** The single table behind parsing, --help and the README's configuration reference. */
export const OPTIONS: readonly Option[] = [
  { flag: "kubeconfig", env: "KUBECONFIG", help: "kubeconfig file; in a pod the in-cluster config is used" },
  {
    flag: "namespaces",
    env: "HOOKSTREAM_NAMESPACES",
    help: "comma-separated namespaces to watch (default: all)",
  },
  {
    flag: "log-level",
    env: "HOOKSTREAM_LOG_LEVEL",
    default: "info",
    help: `one of ${LOG_LEVELS.join(", ")}`,
  },
  {
    flag: "health-addr",
    env: "HOOKSTREAM_HEALTH_ADDR",
    default: "0.0.0.0:8080",
    help: "host:port for /metrics, /healthz and /readyz",
  },
  {
    flag: "shutdown-timeout",
    env: "HOOKSTREAM_SHUTDOWN_TIMEOUT",
    default: "25s",
    help: "how long graceful shutdown may take before in-flight work is abandoned to redelivery",
  },
  {
    flag: "nats-url",
    env: "NATS_URL",
    default: "nats://127.0.0.1:4222",
    help: "comma-separated NATS server URLs",
  },
  { flag: "nats-creds", env: "NATS_CREDS", help: "NATS credentials file (JWT and nkey seed)" },
  { flag: "nats-nkey", env: "NATS_NKEY", help: "file holding an NATS nkey seed" },
  { flag: "nats-user", env: "NATS_USER", help: "NATS user name" },
  { flag: "nats-password", env: "NATS_PASSWORD", help: "NATS password (prefer the environment to the flag)" },
  { flag: "nats-token", env: "NATS_TOKEN", help: "NATS token (prefer the environment to the flag)" },
  { flag: "nats-tls-ca", env: "NATS_TLS_CA", help: "CA bundle that verifies the NATS servers" },
  { flag: "nats-tls-cert", env: "NATS_TLS_CERT", help: "client certificate for NATS mTLS" },
  { flag: "nats-tls-key", env: "NATS_TLS_KEY", help: "client key for NATS mTLS" },
];

export function usage(): string {
  const lines = OPTIONS.map((o) => {
    const def = o.default !== undefined ? ` (default ${o.default})` : "";
    return `  --${o.flag.padEnd(18)} ${o.help}${def} [env ${o.env}]`;
  });
  return [
    "hookstream: delivers NATS JetStream events as signed webhooks to WebhookSubscription endpoints",
    "",
    "Usage:",
    "  hookstream run [flags]    run the operator",
    "  hookstream version        print the version",
    "  hookstream --help         this text",
    "",
    "Flags of run (each also read from the environment variable named):",
    ...lines,
  ].join("\n");
}

/** Resolves the configuration; throws ConfigError naming the flag or variable at fault. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: o.boolean ? "boolean" : "string" }])),
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const get = (flag: string): string | undefined => {
    const o = OPTIONS.find((x) => x.flag === flag);
    if (!o) throw new Error(`no such option ${flag}`);
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return fromFlag;
    const fromEnv = env[o.env];
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    return o.default;
  };
  const source = (flag: string): string => {
    const o = OPTIONS.find((x) => x.flag === flag);
    return typeof values[flag] === "string" ? `--${flag}` : `--${flag} (env ${o?.env})`;
  };

  const logLevel = get("log-level") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`${source("log-level")}: "${logLevel}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  const [healthHost, healthPort] = parseHostPort(get("health-addr") ?? "", source("health-addr"));
  const shutdownTimeoutMs = parseDuration(get("shutdown-timeout") ?? "");
  if (shutdownTimeoutMs === undefined || shutdownTimeoutMs <= 0) {
    throw new ConfigError(
      `${source("shutdown-timeout")}: "${get("shutdown-timeout")}" is not a positive duration like 25s`,
    );
  }
  const servers = splitList(get("nats-url"));
  if (servers.length === 0) throw new ConfigError(`${source("nats-url")}: at least one NATS URL is needed`);
  for (const url of servers) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s/]+(:\d+)?\/?$/.test(url) && !/^[^\s:/]+:\d+$/.test(url)) {
      throw new ConfigError(`${source("nats-url")}: "${url}" is not a NATS URL like nats://host:4222`);
    }
  }
  const tlsCert = get("nats-tls-cert");
  const tlsKey = get("nats-tls-key");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError("--nats-tls-cert and --nats-tls-key go together: give both or neither");
  }
  const user = get("nats-user");
  const password = get("nats-password");
  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigError("--nats-user and --nats-password go together: give both or neither");
  }
  const authKinds = [get("nats-creds"), get("nats-nkey"), user, get("nats-token")].filter(
    (v) => v !== undefined,
  );
  if (authKinds.length > 1) {
    throw new ConfigError(
      "give at most one NATS authentication: --nats-creds, --nats-nkey, --nats-user or --nats-token",
    );
  }

  return {
    kubeconfig: get("kubeconfig"),
    namespaces: splitList(get("namespaces")),
    logLevel: logLevel as LevelWithSilent,
    healthHost,
    healthPort,
    shutdownTimeoutMs,
    nats: {
      servers,
      credsFile: get("nats-creds"),
      nkeySeedFile: get("nats-nkey"),
      user,
      password,
      token: get("nats-token"),
      tlsCaFile: get("nats-tls-ca"),
      tlsCertFile: tlsCert,
      tlsKeyFile: tlsKey,
    },
  };
}

function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function parseHostPort(value: string, source: string): [string, number] {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    throw new ConfigError(`${source}: "${value}" is not host:port like 0.0.0.0:8080`);
  const host = (match[1] ?? "").replace(/^\[|\]$/g, "");
  return [host === "" ? "0.0.0.0" : host, port];
}
