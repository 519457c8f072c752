/**
 * pnpm stack up | down | status | logs — starts, stops and inspects the local stack:
 * PostgreSQL, Apache Kafka (KRaft) and Apicurio Registry. See README.md, "The local stack".
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { workerKafkaAcls } from "@weather/schema";
import { createKafka, createKafkaAcls, KAFKA_CONNECTION, kafkaAclTable } from "@weather/service-kit";
import { ConfigError, configurationOf } from "@weather/settings";
import type { ServiceState, ServiceStatus } from "./context.ts";
import { logFileOf } from "./context.ts";
import { stackPaths } from "./paths.ts";
import { KAFKA, kafkaLogNames } from "./services/kafka.ts";
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

  up [--brokers N] [--secure] [--started-file FILE]
                             start what is not running and wait until all services are ready;
                             --brokers 3 (or STACK_KAFKA_BROKERS=3) runs Kafka as a three-node
                             cluster (default: one node); STACK_KAFKA_PORT moves its ports
                             --secure (or STACK_SECURE=1): Kafka on SASL_SSL only (SCRAM-SHA-512,
                             an authorizer, one principal per worker and its ACLs) and the
                             registry behind nginx (TLS, basic auth or a bearer token; mutual
                             TLS on a second port); prints where the CA and secrets are.
                             STACK_REGISTRY_PORT / STACK_REGISTRY_PROXY_PORT move the registry's
                             (FILE receives the names of the services this call started)
  down [--only-from FILE]    stop the services the stack started (only those FILE names),
                             every Kafka node included
  status                     each service's (and Kafka node's) state and address; exits 3
                             unless all are healthy
  logs [SERVICE...]          follow the logs (${SERVICES.join(", ")}; kafka means every node,
                             kafka-2 one node of a cluster)
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
  const rows = statuses.map((s) => [s.name, describe(s.state), s.address]);
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  for (const [name, state, address] of rows) {
    console.log(`${name?.padEnd(widths[0] ?? 0)}  ${state?.padEnd(widths[1] ?? 0)}  ${address}`);
  }
  if (secrets.length === 0) return;
  console.log("\nsecure (--secure): secrets and certificates, each file 0600");
  const width = Math.max(...secrets.map((s) => s.what.length));
  for (const { what, file } of secrets) console.log(`  ${what.padEnd(width)}  ${file}`);
}

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
  const context = stackContext(paths, process.env, log, {
    ...(values.brokers !== undefined ? { brokers: values.brokers } : {}),
    ...(values.secure ? { secure: true } : {}),
  });

  switch (command) {
    case "up": {
      const started = Date.now();
      const statuses = await stackUp(
        context,
        values["started-file"] ? { startedFile: values["started-file"] } : {},
      );
      printTable(statuses, secureStackFiles(context));
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
      return statuses.every((status) => isHealthy(status.state)) ? 0 : 3;
    }
    case "logs": {
      const kafkaNodes = kafkaLogNames(context);
      const known = [...SERVICES, ...kafkaNodes];
      const unknown = rest.filter((name) => !known.includes(name));
      if (unknown.length > 0)
        throw new StackError("logs", `unknown service ${unknown.join(", ")}; expected ${known.join(", ")}`);
      // "kafka" is every node of the stack's Kafka, one or a cluster's.
      const names = (rest.length > 0 ? rest : SERVICES).flatMap((name) =>
        name === KAFKA ? kafkaNodes : [name],
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
    process.exitCode = 1;
  },
);
