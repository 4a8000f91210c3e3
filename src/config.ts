import { hostname } from "node:os";
import { parseArgs } from "node:util";
import type { LevelWithSilent } from "pino";
import { parseDuration } from "./api/duration.js";
import { parseAllowList } from "./delivery/ssrf.js";
import type { StreamSettings } from "./ingest/streams.js";
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
  /** Tenant subject policy file; undefined allows every namespace every subject. */
  subjectPolicyFile: string | undefined;
  leaderElection: {
    enabled: boolean;
    namespace: string;
    name: string;
    identity: string;
  };
  statusIntervalMs: number;
  resyncMs: number;
  watchSilenceMs: number;
  streams: StreamSettings;
  handoffMs: number;
  maxEventBytes: number;
  /** CIDRs exempt from the SSRF guard. */
  ssrfAllow: string[];
  /** Worker threads that send webhooks; 0 sends from the main thread. */
  deliveryWorkers: number;
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
    flag: "subject-policy",
    env: "HOOKSTREAM_SUBJECT_POLICY",
    help: "YAML file limiting which subject patterns each namespace may subscribe to (default: all allowed)",
  },
  {
    flag: "leader-elect",
    env: "HOOKSTREAM_LEADER_ELECT",
    default: "true",
    help: "elect a leader through a Lease so several replicas can run (true or false)",
  },
  {
    flag: "leader-election-namespace",
    env: "POD_NAMESPACE",
    default: "default",
    help: "namespace of the leader-election Lease",
  },
  {
    flag: "leader-election-id",
    env: "HOOKSTREAM_LEADER_ELECTION_ID",
    default: "hookstream",
    help: "name of the Lease",
  },
  {
    flag: "identity",
    env: "POD_NAME",
    help: "this replica's name in the Lease (default: host name and PID)",
  },
  {
    flag: "status-interval",
    env: "HOOKSTREAM_STATUS_INTERVAL",
    default: "5s",
    help: "at most one status write per subscription per this interval",
  },
  {
    flag: "resync-period",
    env: "HOOKSTREAM_RESYNC_PERIOD",
    default: "10m",
    help: "every subscription is reconciled again this often",
  },
  {
    flag: "watch-silence",
    env: "HOOKSTREAM_WATCH_SILENCE",
    default: "3m",
    help: "a watch with no event or bookmark for this long is presumed dead and relisted",
  },
  {
    flag: "stream",
    env: "HOOKSTREAM_STREAM",
    default: "HOOKSTREAM_EVENTS",
    help: "JetStream stream the events are published into",
  },
  {
    flag: "stream-subjects",
    env: "HOOKSTREAM_STREAM_SUBJECTS",
    help: "comma-separated subjects: when set, hookstream creates (or updates) the stream with them; else the stream must exist",
  },
  {
    flag: "stream-max-age",
    env: "HOOKSTREAM_STREAM_MAX_AGE",
    default: "72h",
    help: "max age of events in a stream hookstream creates",
  },
  {
    flag: "stream-retention",
    env: "HOOKSTREAM_STREAM_RETENTION",
    default: "limits",
    help: "retention of a stream hookstream creates: limits or interest",
  },
  {
    flag: "stream-replicas",
    env: "HOOKSTREAM_STREAM_REPLICAS",
    default: "1",
    help: "replicas of the streams hookstream creates",
  },
  { flag: "consumer", env: "HOOKSTREAM_CONSUMER", default: "hookstream", help: "durable consumer name" },
  {
    flag: "retry-stream",
    env: "HOOKSTREAM_RETRY_STREAM",
    default: "HOOKSTREAM_RETRY",
    help: "stream holding durable retry state",
  },
  {
    flag: "retry-subject-prefix",
    env: "HOOKSTREAM_RETRY_SUBJECT_PREFIX",
    default: "_hookstream.retry",
    help: "subject prefix of retry tasks (must not overlap the events stream's subjects)",
  },
  {
    flag: "ack-wait",
    env: "HOOKSTREAM_ACK_WAIT",
    default: "30s",
    help: "JetStream redelivers an event not acked within this",
  },
  {
    flag: "max-ack-pending",
    env: "HOOKSTREAM_MAX_ACK_PENDING",
    default: "20000",
    help: "events in flight at most",
  },
  {
    flag: "handoff-after",
    env: "HOOKSTREAM_HANDOFF_AFTER",
    default: "2s",
    help: "a delivery not done within this is handed to durable retry state so its event can be acked",
  },
  {
    flag: "max-event-bytes",
    env: "HOOKSTREAM_MAX_EVENT_BYTES",
    default: "1048576",
    help: "larger events are dead-lettered",
  },
  {
    flag: "delivery-workers",
    env: "HOOKSTREAM_DELIVERY_WORKERS",
    default: "1",
    help: "threads that send webhooks beside the main thread (0 sends from the main thread)",
  },
  {
    flag: "ssrf-allow-cidrs",
    env: "HOOKSTREAM_SSRF_ALLOW_CIDRS",
    help: "comma-separated CIDRs that endpoints may resolve to although private, loopback or link-local (default: none)",
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

  const duration = (flag: string, min: number): number => {
    const value = get(flag) ?? "";
    const ms = parseDuration(value);
    if (ms === undefined || ms < min) {
      throw new ConfigError(
        `${source(flag)}: "${value}" is not a duration of at least ${min} ms, like 5s or 10m`,
      );
    }
    return ms;
  };
  const leaderElect = get("leader-elect");
  if (leaderElect !== "true" && leaderElect !== "false") {
    throw new ConfigError(`${source("leader-elect")}: "${leaderElect}" is not true or false`);
  }

  const integer = (flag: string, min: number, max: number): number => {
    const value = get(flag) ?? "";
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new ConfigError(`${source(flag)}: "${value}" is not a whole number from ${min} to ${max}`);
    }
    return n;
  };
  const retention = get("stream-retention");
  if (retention !== "limits" && retention !== "interest") {
    throw new ConfigError(`${source("stream-retention")}: "${retention}" is not limits or interest`);
  }
  const ssrfAllow = splitList(get("ssrf-allow-cidrs"));
  try {
    parseAllowList(ssrfAllow);
  } catch (err) {
    throw new ConfigError(`${source("ssrf-allow-cidrs")}: ${(err as Error).message}`);
  }

  return {
    streams: {
      stream: get("stream") ?? "HOOKSTREAM_EVENTS",
      subjects: splitList(get("stream-subjects")),
      maxAgeMs: duration("stream-max-age", 1000),
      retention,
      replicas: integer("stream-replicas", 1, 5),
      consumer: get("consumer") ?? "hookstream",
      ackWaitMs: duration("ack-wait", 1000),
      maxAckPending: integer("max-ack-pending", 1, 1_000_000),
      retryStream: get("retry-stream") ?? "HOOKSTREAM_RETRY",
      retrySubjectPrefix: get("retry-subject-prefix") ?? "_hookstream.retry",
    },
    handoffMs: duration("handoff-after", 10),
    maxEventBytes: integer("max-event-bytes", 1, 64 * 1024 * 1024),
    ssrfAllow,
    deliveryWorkers: integer("delivery-workers", 0, 64),
    subjectPolicyFile: get("subject-policy"),
    leaderElection: {
      enabled: leaderElect === "true",
      namespace: get("leader-election-namespace") ?? "default",
      name: get("leader-election-id") ?? "hookstream",
      identity: get("identity") ?? `${hostname()}-${process.pid}`,
    },
    statusIntervalMs: duration("status-interval", 100),
    resyncMs: duration("resync-period", 1000),
    watchSilenceMs: duration("watch-silence", 1000),
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
