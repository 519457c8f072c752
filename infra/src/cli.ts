/**
 * pnpm stack up | down | status | logs | failover | rejoin — starts, stops and inspects the local
 * stack: PostgreSQL (and, when asked, a primary and standby of its own), Apache Kafka (KRaft) and
 * Apicurio Registry. See docs/local-stack.md and docs/postgres-failover.md.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { workerKafkaAcls } from "@weather/schema";
import {
  createKafka,
  createKafkaAcls,
  EXIT_CODES,
  KAFKA_CONNECTION,
  kafkaAclTable,
  LOCAL_STACK,
} from "@weather/service-kit";
import { ConfigError, configurationOf } from "@weather/settings";
import type { ServiceState, ServiceStatus, StackContext } from "./context.ts";
import { logFileOf } from "./context.ts";
import { stackPaths } from "./paths.ts";
import { kafkaLogNames } from "./services/kafka.ts";
import { KAFKA } from "./services/kafka-layout.ts";
import { failover, rejoin } from "./services/postgres-failover.ts";
import { pairLogNames, pairOf } from "./services/postgres-pair.ts";
import { POSTGRES_PAIR, postgresPairUrl } from "./services/postgres-pair-layout.ts";
import {
  isHealthy,
  readStartedFile,
  SERVICES,
  secureStackFiles,
  stackContext,
  stackDown,
  stackStatus,
  stackUp,
} from "./stack.ts";
import { StackError } from "./stack-error.ts";

const USAGE = `usage: pnpm stack <command>

  up [--brokers N] [--secure] [--postgres-standby sync|async] [--started-file FILE]
                             start what is not running and wait until all services are ready;
                             --brokers 3 (or STACK_KAFKA_BROKERS=3) runs Kafka as a three-node
                             cluster (default: one node); STACK_KAFKA_PORT moves its ports;
                             --postgres-standby (or STACK_POSTGRES_STANDBY) also starts the
                             stack's own PostgreSQL primary and streaming standby (postgres-1 and
                             postgres-2, ports ${LOCAL_STACK.postgresPairPorts.join(" and ")}; STACK_POSTGRES_PAIR_PORTS moves
                             them) for the product's database, and prints the DATABASE_URL that
                             follows the primary (FILE receives the names of the services this
                             call started);
                             --secure (or STACK_SECURE=1): Kafka on SASL_SSL only (SCRAM-SHA-512,
                             an authorizer, one principal per worker and its ACLs) and the
                             registry behind nginx (TLS, basic auth or a bearer token; mutual
                             TLS on a second port); prints where the CA and secrets are.
                             STACK_REGISTRY_PORT / STACK_REGISTRY_PROXY_PORT move the registry's
                             ports and its proxy's
  down [--only-from FILE]    stop the services the stack started (only those FILE names),
                             every Kafka node included
  status                     each service's (and Kafka node's) state and address, and the
                             PostgreSQL pair's roles and replay lag; exits 3 unless all are healthy
  logs [SERVICE...]          follow the logs (${SERVICES.join(", ")};
                             kafka means every node, kafka-2 one node of a cluster;
                             postgres-pair both postgres-1 and postgres-2)
  failover                   promote the standby as a failover manager would: fence (stop, in
                             immediate mode) the primary if it still runs, promote, wait for the
                             first commit, print how long it took
  rejoin                     make the old primary the new primary's standby (pg_rewind, else a
                             fresh base backup), streaming; a second failover goes back to it
  acls [--apply]             the workers' Kafka ACLs for READINGS_TOPIC and SINK_GROUP_ID, as a
                             table; --apply creates them on the Kafka KAFKA_BROKERS names, as the
                             admin KAFKA_SASL_USERNAME names (up --secure does this by itself)`;

function describe(state: ServiceState): string {
  switch (state.kind) {
    case "started":
      return `ready (started now, pid ${state.pid})`;
    case "running":
      return `ready (pid ${state.pid}, up since ${state.startedAt})`;
    case "external":
      return "ready (not started by the stack; left alone)";
    case "stopped":
      return "stopped";
    case "unhealthy":
      return `NOT READY (pid ${state.pid}: ${state.reason})`;
  }
}

function printTable(
  statuses: readonly ServiceStatus[],
  secrets: readonly { what: string; file: string }[],
): void {
  const rows = statuses.map((s) => [s.name, describe(s.state), s.address, s.detail ?? ""]);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  for (const [name, state, address, detail] of rows) {
    const line = `${name?.padEnd(widths[0] ?? 0)}  ${state?.padEnd(widths[1] ?? 0)}  ${address?.padEnd(widths[2] ?? 0)}  ${detail}`;
    console.log(line.trimEnd());
  }
  if (secrets.length === 0) return;
  console.log("\nsecure (--secure): secrets and certificates, each file 0600");
  const width = Math.max(...secrets.map((s) => s.what.length));
  for (const { what, file } of secrets) console.log(`  ${what.padEnd(width)}  ${file}`);
}

/** The URL the workers need to follow the primary, when the stack runs a pair. */
function printPairUrl(context: StackContext, statuses: readonly ServiceStatus[]): void {
  const layout = pairOf(context);
  if (!statuses.some((status) => layout.nodes.some((node) => node.name === status.name))) return;
  console.log(`\nthe product's database on the primary, whichever node it is (docs/postgres-failover.md):`);
  console.log(`  export DATABASE_URL='${postgresPairUrl(layout)}'`);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const log = (message: string) => console.error(`[stack] ${message}`);

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    // `pnpm stack -- up` passes the `--` on; parseArgs would read every flag after it as a word.
    args: argv.filter((arg) => arg !== "--"),
    allowPositionals: true,
    options: {
      "started-file": { type: "string" },
      "only-from": { type: "string" },
      brokers: { type: "string" },
      secure: { type: "boolean" },
      apply: { type: "boolean" },
      "postgres-standby": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const paths = stackPaths();
  if (values.brokers !== undefined && command !== "up")
    throw new StackError("stack", `--brokers belongs to up; ${command} covers whatever nodes the stack runs`);
  if (values.secure !== undefined && command !== "up")
    throw new StackError(
      "stack",
      `--secure belongs to up; ${command} sees how the running stack was started`,
    );

  if (values["postgres-standby"] !== undefined && command !== "up")
    throw new StackError(
      "stack",
      `--postgres-standby belongs to up; ${command} works on the pair as it runs`,
    );
  const context = stackContext(paths, process.env, log, {
    ...(values.brokers !== undefined ? { brokers: values.brokers } : {}),
    ...(values.secure ? { secure: true } : {}),
    ...(values["postgres-standby"] !== undefined ? { postgresStandby: values["postgres-standby"] } : {}),
  });

  switch (command) {
    case "up": {
      const started = Date.now();
      const statuses = await stackUp(
        context,
        values["started-file"] ? { startedFile: values["started-file"] } : {},
      );
      printTable(statuses, secureStackFiles(context));
      printPairUrl(context, statuses);
      log(`all services ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case "down": {
      const onlyFrom = values["only-from"];
      const only = onlyFrom ? (existsSync(onlyFrom) ? readStartedFile(onlyFrom) : []) : undefined;
      for (const { service, stopped } of await stackDown(context, only ? { only } : {})) {
        console.log(`${service}: ${stopped ? "stopped" : "was not running under the stack"}`);
      }
      return 0;
    }
    case "status": {
      const statuses = await stackStatus(context);
      printTable(statuses, secureStackFiles(context));
      printPairUrl(context, statuses);
      return statuses.every((status) => isHealthy(status.state)) ? 0 : 3;
    }
    case "logs": {
      const kafkaNodes = kafkaLogNames(context);
      const known = [...SERVICES, ...kafkaNodes, ...pairLogNames()];
      const unknown = rest.filter((name) => !known.includes(name));
      if (unknown.length > 0)
        throw new StackError("logs", `unknown service ${unknown.join(", ")}; expected ${known.join(", ")}`);
      // "kafka" is every node of the stack's Kafka, one or a cluster's.
      const names = (rest.length > 0 ? rest : SERVICES).flatMap((name) =>
        name === KAFKA ? kafkaNodes : name === POSTGRES_PAIR ? pairLogNames() : [name],
      );
      const files = [...new Set(names)]
        .map((name) => logFileOf(paths, name))
        .filter((file) => existsSync(file));
      if (files.length === 0) {
        log(`no logs yet under ${paths.logs}; the stack writes them once it starts a service`);
        return 1;
      }
      const tail = spawn("tail", ["-n", "40", "-F", ...files], { stdio: "inherit" });
      return await new Promise<number>((resolve) => tail.on("exit", (code) => resolve(code ?? 0)));
    }
    case "acls": {
      const acls = workerKafkaAcls(context.kafkaAclNames);
      if (!values.apply) {
        console.log(kafkaAclTable(acls));
        return 0;
      }
      const { kafka } = configurationOf({ groups: { kafka: KAFKA_CONNECTION } }, process.env);
      const brokers = kafka.brokers.join(",");
      const admin = createKafka(kafka, { clientId: "stack-acls", retry: "quick" }).admin();
      try {
        await admin.connect();
        log(
          `created ${await createKafkaAcls(admin, acls)} ACL entries on ${brokers} (existing ones are kept once)`,
        );
      } catch (error) {
        throw new StackError(
          "kafka",
          `creating the workers' ACLs on ${brokers} failed: ${(error as Error).message}`,
          undefined,
          "connect as a super user or a principal with ALTER on the cluster: KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE, KAFKA_SSL_CA_FILE",
        );
      } finally {
        await admin.disconnect().catch(() => {});
      }
      return 0;
    }
    case "failover": {
      const result = await failover(context);
      console.log(
        `${result.promoted} is the primary now: it committed ${seconds(result.promotionMs)} after pg_promote(), ` +
          `${seconds(result.tookMs)} after the failover began; ${result.fenced} is fenced ` +
          `(${result.fencedRunning ? "stopped in immediate mode" : "it was not running"}); pnpm stack rejoin makes it the standby`,
      );
      return 0;
    }
    case "rejoin": {
      const result = await rejoin(context);
      console.log(
        result.method === "none"
          ? `${result.node} already streams from ${result.primary}; nothing to do`
          : `${result.node} is ${result.primary}'s standby again (${result.method}, ${seconds(result.tookMs)}); pnpm stack failover would go back to it`,
      );
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Errors of ours carry their diagnosis in the message; anything else gets its stack too.
    if (error instanceof StackError || error instanceof ConfigError)
      console.error(`[stack] error: ${error.message}`);
    else if (error instanceof AggregateError)
      for (const inner of error.errors) console.error(`[stack] error: ${(inner as Error).message}`);
    else console.error("[stack] unexpected error:", error);
    process.exitCode =
      error instanceof StackError
        ? error.exitCode
        : error instanceof ConfigError
          ? EXIT_CODES.CONFIGURATION
          : 1;
  },
);
