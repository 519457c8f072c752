import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import { Kafka, logLevel } from "kafkajs";
import {
  bringUp,
  logFileOf,
  observeService,
  type ServiceStatus,
  STACK_HOST,
  type StackContext,
} from "../context.ts";
import { startDaemon } from "../daemon.ts";
import { findJava } from "../java.ts";
import { ensureKafkaJars } from "../kafka-jars.ts";
import { INFRA_DIR } from "../paths.ts";
import { StackError } from "../stack-error.ts";
import { KAFKA_MIN_JAVA } from "../versions.ts";
import {
  ensureKafkaTls,
  ensureScramUser,
  KAFKA_SECURE_ADDRESS,
  type KafkaTlsFiles,
  kafkaTlsFiles,
  SCRAM_MECHANISM,
  secureListenerEnabled,
  secureListenerProperties,
} from "./kafka-secure.ts";

export const KAFKA = "kafka";
export const KAFKA_ADDRESS = `${STACK_HOST}:${LOCAL_STACK.kafkaPort}`;

/**
 * A single node that is both broker and KRaft controller, for development and tests only. With
 * `secure`, a SASL_SSL listener (SCRAM over TLS) joins PLAINTEXT; see kafka-secure.ts.
 */
export function serverProperties(logDir: string, secure: KafkaTlsFiles | null = null): string {
  const host = STACK_HOST;
  const saslSsl = secure ? `,SASL_SSL://${KAFKA_SECURE_ADDRESS}` : "";
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.bootstrap.servers=${host}:${LOCAL_STACK.kafkaControllerPort}`,
    `listeners=PLAINTEXT://${host}:${LOCAL_STACK.kafkaPort},CONTROLLER://${host}:${LOCAL_STACK.kafkaControllerPort}${saslSsl}`,
    `advertised.listeners=PLAINTEXT://${host}:${LOCAL_STACK.kafkaPort}${saslSsl}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${secure ? ",SASL_SSL:SASL_SSL" : ""}`,
    ...(secure ? secureListenerProperties(secure) : []),
    `log.dirs=${logDir}`,
    // Topics are created on purpose by the bootstrap worker, with their partitions and retention;
    // a typo in a topic name should fail loudly, not create a second topic.
    "auto.create.topics.enable=false",
    "num.partitions=3",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

export async function probeKafka(): Promise<string | true> {
  const kafka = new Kafka({
    clientId: "stack-probe",
    brokers: [KAFKA_ADDRESS],
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? true : "metadata lists no brokers";
  } catch (error) {
    return (error as Error).message;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function startKafka(context: StackContext): Promise<number> {
  const java = findJava(KAFKA_MIN_JAVA, "KAFKA_JAVA_HOME");
  if ("problem" in java) throw new StackError(KAFKA, java.problem);

  const libDir = await ensureKafkaJars(context.paths, context.log);

  const kafkaDir = join(context.paths.data, "kafka");
  const logDir = join(kafkaDir, "log-dirs");
  const propertiesFile = join(kafkaDir, "server.properties");
  const logFile = logFileOf(context.paths, KAFKA);
  mkdirSync(kafkaDir, { recursive: true });
  const secure = secureListenerEnabled()
    ? ensureKafkaTls(KAFKA, context.paths, java.runtime.executable)
    : null;
  writeFileSync(propertiesFile, serverProperties(logDir, secure));
  const classpath = ["-cp", `${libDir}/*`];

  if (!existsSync(join(logDir, "meta.properties"))) {
    context.log(`kafka: formatting storage in ${logDir}`);
    const clusterId = spawnSync(
      java.runtime.executable,
      [...classpath, "kafka.tools.StorageTool", "random-uuid"],
      {
        encoding: "utf8",
      },
    ).stdout.trim();
    const format = spawnSync(
      java.runtime.executable,
      [
        ...classpath,
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "-t",
        clusterId,
        "-c",
        propertiesFile,
      ],
      { encoding: "utf8" },
    );
    if (format.status !== 0 || !clusterId) {
      throw new StackError(
        KAFKA,
        `formatting storage failed: ${format.stderr || format.stdout}`.trim(),
        logFile,
      );
    }
  }

  return startDaemon(context.paths.run, {
    name: KAFKA,
    command: java.runtime.executable,
    args: [
      "-Xms256m",
      "-Xmx512m",
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${join(INFRA_DIR, "kafka", "log4j2.properties")}`,
      ...classpath,
      "kafka.Kafka",
      propertiesFile,
    ],
    cwd: kafkaDir,
    logFile,
    marker: propertiesFile,
  });
}

/**
 * Once the broker answers: make sure the SCRAM user of the SASL_SSL listener exists (a no-op after
 * the first time, see ensureScramUser). Skipped for a broker the stack does not own.
 */
function prepareSecureListener(context: StackContext): void {
  const files = kafkaTlsFiles(context.paths);
  if (!secureListenerEnabled() || !existsSync(files.scramPasswordFile)) return;
  const java = findJava(KAFKA_MIN_JAVA, "KAFKA_JAVA_HOME");
  if ("problem" in java) throw new StackError(KAFKA, java.problem);
  const created = ensureScramUser({
    service: KAFKA,
    files,
    javaExecutable: java.runtime.executable,
    libDir: join(context.paths.downloads, "kafka", "lib"),
    logDir: join(context.paths.data, "kafka", "log-dirs"),
    bootstrapServer: KAFKA_ADDRESS,
  });
  if (created) {
    context.log(
      `kafka: SASL_SSL listener on ${KAFKA_SECURE_ADDRESS}: ${SCRAM_MECHANISM} user ${files.scramUser}, ` +
        `password in ${files.scramPasswordFile}, CA certificate ${files.caFile}`,
    );
  }
}

export async function kafkaUp(context: StackContext): Promise<ServiceStatus> {
  const state = await bringUp({
    name: KAFKA,
    paths: context.paths,
    probe: probeKafka,
    start: () => startKafka(context),
    readyWithinMs: 90_000,
    log: context.log,
  });
  if (state.kind !== "external") prepareSecureListener(context);
  return { name: KAFKA, address: kafkaAddresses(context), state, logFile: logFileOf(context.paths, KAFKA) };
}

/** PLAINTEXT, and the SASL_SSL listener once the stack has given the broker one. */
function kafkaAddresses(context: StackContext): string {
  const secure = secureListenerEnabled() && existsSync(kafkaTlsFiles(context.paths).caFile);
  return secure ? `${KAFKA_ADDRESS} (SASL_SSL ${KAFKA_SECURE_ADDRESS})` : KAFKA_ADDRESS;
}

export function kafkaStatus(context: StackContext): Promise<ServiceStatus> {
  return observeService({
    name: KAFKA,
    address: kafkaAddresses(context),
    paths: context.paths,
    probe: probeKafka,
  });
}
