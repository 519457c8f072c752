import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createKafka } from "@weather/service-kit";
import { Kafka, type KafkaConfig } from "kafkajs";
import { bringUp, logFileOf, observeService, type ServiceStatus, type StackContext } from "../context.ts";
import { daemonState, recordedDaemons, startDaemon, stopDaemon } from "../daemon.ts";
import { findJava } from "../java.ts";
import { ensureKafkaJars, kafkaLibDir } from "../kafka-jars.ts";
import { INFRA_DIR } from "../paths.ts";
import { readSecret, writeSecret } from "../secrets.ts";
import { StackError } from "../stack-error.ts";
import { KAFKA_MIN_JAVA } from "../versions.ts";
import {
  addScramArguments,
  allPrincipals,
  applyWorkerAcls,
  ensureKafkaPasswords,
  kafkaPrincipals,
  lockedDownProperties,
  secureKafkaConfig,
  writeAdminClientProperties,
} from "./kafka-authz.ts";
import {
  forgetKafkaLayout,
  KAFKA,
  type KafkaLayout,
  type KafkaNode,
  kafkaLayout,
  recordedLayout,
  recordKafkaLayout,
  replicationOf,
} from "./kafka-layout.ts";
import {
  ensureKafkaTls,
  ensureScramUsers,
  type KafkaTlsFiles,
  kafkaTlsFiles,
  recordScramUsers,
  SCRAM_MECHANISM,
  type ScramUser,
  secureListenerProperties,
} from "./kafka-secure.ts";

/** The one-node stack's PLAINTEXT address (the default KAFKA_BROKERS of every worker). */
export const KAFKA_ADDRESS = kafkaLayout().bootstrapServers;

/** Every Kafka node's pid file: `kafka` alone, `kafka-<id>` in a cluster. */
const KAFKA_DAEMON = /^kafka(-\d+)?$/;

/**
 * One node's server.properties: broker and KRaft controller in one process, for development and
 * tests only. In a cluster every node lists every controller (a dynamic quorum, KIP-853, formatted
 * with all of them as initial voters) and the internal topics get three copies, two of which must
 * hold a write; the readings topics get theirs from bootstrap. With `secure`, a SASL_SSL listener
 * (SCRAM over TLS) joins PLAINTEXT; see kafka-secure.ts. With `lockedDown` (`--secure`), SASL_SSL
 * and an authenticated CONTROLLER listener are all there is, and an authorizer runs; see
 * kafka-authz.ts.
 */
export function serverProperties(options: {
  readonly layout?: KafkaLayout;
  readonly node?: KafkaNode;
  readonly logDir: string;
  readonly secure?: KafkaTlsFiles | null;
  readonly lockedDown?: { readonly tls: KafkaTlsFiles; readonly adminPassword: string } | null;
}): string {
  const layout = options.layout ?? kafkaLayout();
  const node = options.node ?? layout.nodes[0];
  if (node === undefined) throw new Error("a Kafka layout without nodes");
  const { secure = null, lockedDown = null, logDir } = options;
  const { copies, minInSync } = replicationOf(layout);
  const saslSsl = secure ? `,SASL_SSL://${node.secureAddress}` : "";
  const listeners = lockedDown
    ? lockedDownProperties(layout, node, lockedDown.tls, lockedDown.adminPassword)
    : [
        `controller.quorum.bootstrap.servers=${layout.nodes.map((n) => n.controllerAddress).join(",")}`,
        `listeners=PLAINTEXT://${node.address},CONTROLLER://${node.controllerAddress}${saslSsl}`,
        `advertised.listeners=PLAINTEXT://${node.address}${saslSsl}`,
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${secure ? ",SASL_SSL:SASL_SSL" : ""}`,
        ...(secure ? secureListenerProperties(secure) : []),
      ];
  return [
    "process.roles=broker,controller",
    `node.id=${node.id}`,
    ...listeners,
    `log.dirs=${logDir}`,
    // Topics are created on purpose by the bootstrap worker, with their partitions and retention;
    // a typo in a topic name should fail loudly, not create a second topic.
    "auto.create.topics.enable=false",
    "num.partitions=3",
    // Topics created without these (consumer offsets included) get as many copies as the cluster
    // allows, and with three copies a write needs two of them.
    `default.replication.factor=${copies}`,
    `min.insync.replicas=${minInSync}`,
    `offsets.topic.replication.factor=${copies}`,
    `transaction.state.log.replication.factor=${copies}`,
    `transaction.state.log.min.isr=${minInSync}`,
    `share.coordinator.state.topic.replication.factor=${copies}`,
    `share.coordinator.state.topic.min.isr=${minInSync}`,
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

/**
 * Heap per node: the one-node stack keeps what it always had; a cluster's nodes get less each, as
 * three JVMs share a two-core development machine with the workers and PostgreSQL.
 */
export function heapOptions(layout: KafkaLayout): string[] {
  return layout.nodes.length === 1 ? ["-Xms256m", "-Xmx512m"] : ["-Xms192m", "-Xmx384m"];
}

/**
 * Asks the node at `address` for the cluster's metadata. Ready when it answers and (for a node of
 * a cluster, `nodeId`) lists itself among the live brokers: it has joined the quorum and is unfenced.
 * `client` connects otherwise than over PLAINTEXT (a locked-down node's SASL_SSL, as the admin).
 */
export async function probeKafka(
  address = KAFKA_ADDRESS,
  nodeId?: number,
  client?: (address: string) => Kafka,
): Promise<string | true> {
  let kafka: Kafka;
  try {
    kafka = client
      ? client(address)
      : createKafka(
          { brokers: [address], security: { tls: null, sasl: null } },
          { clientId: "stack-probe", connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, retry: "none" },
        );
  } catch (error) {
    return (error as Error).message;
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (nodeId === undefined) return cluster.brokers.length > 0 ? true : "metadata lists no brokers";
    return cluster.brokers.some((broker) => broker.nodeId === nodeId)
      ? true
      : `node ${nodeId} is not among the live brokers yet (${cluster.brokers.map((b) => b.nodeId).join(", ") || "none"})`;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The options of the stack's own clients on a locked-down node: as the admin, patient about nothing. */
const PROBE_OPTIONS: Partial<KafkaConfig> = {
  clientId: "stack-probe",
  connectionTimeout: 2_000,
  requestTimeout: 3_000,
  retry: { retries: 0 },
};

function probeNode(context: StackContext, node: KafkaNode): () => Promise<string | true> {
  const { kafka: layout, paths } = context;
  const nodeId = layout.nodes.length > 1 ? node.id : undefined;
  if (!layout.lockedDown) return () => probeKafka(node.address, nodeId);
  const admin = kafkaPrincipals(paths).admin;
  return () =>
    probeKafka(node.secureAddress, nodeId, (address) => {
      if (!existsSync(admin.passwordFile)) throw new Error(`no admin password yet (${admin.passwordFile})`);
      return new Kafka({ ...secureKafkaConfig(layout, paths, admin, PROBE_OPTIONS), brokers: [address] });
    });
}

/** A locked-down layout keeps its data apart, so switching --secure on and off loses neither. */
function nodeDir(context: StackContext, node: KafkaNode): string {
  return context.kafka.lockedDown
    ? join(context.paths.data, "secure", node.name)
    : join(context.paths.data, node.name);
}

function logDirOf(context: StackContext, node: KafkaNode): string {
  return join(nodeDir(context, node), "log-dirs");
}

function libDirOf(context: StackContext): string {
  return kafkaLibDir(context.paths);
}

function javaForKafka(): string {
  const java = findJava(KAFKA_MIN_JAVA, "KAFKA_JAVA_HOME");
  if ("problem" in java) throw new StackError(KAFKA, java.problem);
  return java.runtime.executable;
}

/** Kafka's jars in the stack's download cache (see kafka-jars.ts), fetched once. */
async function downloadKafka(context: StackContext): Promise<void> {
  await ensureKafkaJars(context.paths, context.log);
}

/** A Kafka Uuid as StorageTool's random-uuid prints it: 16 random bytes, URL-safe base64. */
export function kafkaUuid(): string {
  for (;;) {
    const uuid = Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url");
    // Kafka refuses ids that would read as command-line options.
    if (!uuid.startsWith("-")) return uuid;
  }
}

function runJava(java: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(java, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", (error) => resolve({ code: null, output: error.message }));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

/**
 * Formats the nodes' storage the first time: one cluster id for all of them; a lone node as the
 * standalone voter, a cluster's nodes each with every node as an initial voter (its directory id
 * included, so a node that comes back with an empty disk cannot vote as if it had its log).
 * A cluster that is half formatted is refused: formatting the missing half would split it.
 */
async function formatStorage(context: StackContext, java: string, propertiesFiles: Map<string, string>) {
  const { nodes } = context.kafka;
  const formatted = nodes.filter((node) => existsSync(join(logDirOf(context, node), "meta.properties")));
  if (formatted.length === nodes.length) return;
  if (formatted.length > 0) {
    throw new StackError(
      KAFKA,
      `${formatted.map((n) => n.name).join(", ")} already hold a formatted log dir but ` +
        `${nodes
          .filter((n) => !formatted.includes(n))
          .map((n) => n.name)
          .join(", ")} do not; a node cannot rejoin the cluster's quorum with an empty disk`,
      undefined,
      `start a fresh cluster: pnpm stack down, then delete ${nodes.map((n) => nodeDir(context, n)).join(" ")}`,
    );
  }
  const clusterId = kafkaUuid();
  const voters =
    nodes.length === 1
      ? ["--standalone"]
      : [
          "--initial-controllers",
          nodes.map((n) => `${n.id}@${n.controllerAddress}:${kafkaUuid()}`).join(","),
        ];
  context.log(
    `kafka: formatting storage of ${nodes.map((n) => n.name).join(", ")} (cluster id ${clusterId})`,
  );
  // Locked down, every principal exists from the start: the nodes authenticate one another as the
  // admin before anyone could create a user.
  const users = context.kafka.lockedDown ? allPrincipals(kafkaPrincipals(context.paths)) : [];
  const scram = addScramArguments(users);
  // One JVM per node, side by side: formatting is a few seconds of start-up each.
  const results = await Promise.all(
    nodes.map(async (node) => {
      const file = propertiesFiles.get(node.name) ?? "";
      const args = ["-cp", `${libDirOf(context)}/*`, "kafka.tools.StorageTool", "format"];
      return { node, ...(await runJava(java, [...args, ...voters, ...scram, "-t", clusterId, "-c", file])) };
    }),
  );
  for (const { node, code, output } of results) {
    if (code !== 0) {
      throw new StackError(
        node.name,
        `formatting storage failed: ${output}`.trim(),
        logFileOf(context.paths, node.name),
      );
    }
  }
  const first = nodes[0];
  if (users.length > 0 && first !== undefined)
    recordScramUsers(scramMarkerOf(context), logDirOf(context, first), users);
}

/** Which SCRAM users the layout's cluster has with which password (see ensureScramUsers). */
function scramMarkerOf(context: StackContext): string {
  const first = context.kafka.nodes[0];
  if (first === undefined) throw new Error("a Kafka layout without nodes");
  return join(nodeDir(context, first), "scram-users.done");
}

/**
 * Writes each node's server.properties (the TLS files are made once, shared by all nodes), 0600:
 * they hold the keystore's password and, locked down, the admin's.
 */
function writeProperties(context: StackContext): Map<string, string> {
  const { kafka: layout, paths } = context;
  const secure = layout.secure ? ensureKafkaTls(KAFKA, paths, layout) : null;
  const lockedDown =
    layout.lockedDown && secure
      ? { tls: secure, adminPassword: readSecretOf(ensureKafkaPasswords(paths).admin) }
      : null;
  const files = new Map<string, string>();
  for (const node of layout.nodes) {
    const dir = nodeDir(context, node);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "server.properties");
    writeSecret(
      file,
      serverProperties({ layout, node, logDir: logDirOf(context, node), secure, lockedDown }),
    );
    files.set(node.name, file);
  }
  return files;
}

function readSecretOf(user: ScramUser): string {
  return readSecret(user.passwordFile);
}

function startNode(context: StackContext, java: string, node: KafkaNode, propertiesFile: string): number {
  return startDaemon(context.paths.run, {
    name: node.name,
    command: java,
    args: [
      ...heapOptions(context.kafka),
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${join(INFRA_DIR, "kafka", "log4j2.properties")}`,
      "-cp",
      `${libDirOf(context)}/*`,
      "kafka.Kafka",
      propertiesFile,
    ],
    cwd: nodeDir(context, node),
    logFile: logFileOf(context.paths, node.name),
    marker: propertiesFile,
  });
}

/**
 * Refuses what would leave a broken cluster: nodes of another layout of this stack still running
 * (their ports and quorum differ), or a port of a cluster's node answered by someone else's server
 * (a cluster cannot be half ours). A lone node may still be someone else's, used as it is.
 */
async function assertLayoutFree(context: StackContext): Promise<void> {
  const { kafka: layout, paths } = context;
  const ours = new Set(layout.nodes.map((node) => node.name));
  const others = recordedDaemons(paths.run, KAFKA_DAEMON).filter(
    (name) => !ours.has(name) && daemonState(paths.run, name).kind === "running",
  );
  if (others.length > 0) {
    throw new StackError(
      KAFKA,
      `this stack (${paths.root}) already runs Kafka as ${others.join(", ")}, not as the ` +
        `${layout.nodes.length}-node layout asked for (${layout.source})`,
      undefined,
      "stop it first: pnpm stack down (then pnpm stack up with the --brokers you want)",
    );
  }
  const running = layout.nodes.filter((node) => daemonState(paths.run, node.name).kind === "running");
  const recorded = recordedLayout(paths);
  if (running.length > 0 && recorded !== undefined && recorded.lockedDown !== layout.lockedDown) {
    throw new StackError(
      KAFKA,
      `this stack (${paths.root}) runs Kafka ${recorded.lockedDown ? "with" : "without"} --secure; ` +
        `it cannot be ${layout.lockedDown ? "locked down" : "opened"} while it runs`,
      undefined,
      `stop it first: pnpm stack down (then pnpm stack up${layout.lockedDown ? " --secure" : ""})`,
    );
  }
  if (layout.nodes.length === 1) return;
  for (const node of layout.nodes) {
    if (daemonState(paths.run, node.name).kind === "running") continue;
    if ((await probeKafka(node.address)) === true) {
      throw new StackError(
        node.name,
        `${node.address} already answers as a Kafka broker the stack did not start; a cluster's ` +
          "nodes must all be the stack's",
        undefined,
        `stop that broker, or move the cluster: STACK_KAFKA_PORT=<port> (now ${layout.basePort}; node n listens from it + 3(n-1))`,
      );
    }
  }
}

/**
 * Once the nodes answer: make sure every SCRAM user has the password in its file (a no-op after
 * the first time, see ensureScramUsers), through PLAINTEXT, or locked down through SASL_SSL as the
 * admin; then, locked down, create the workers' ACLs. Skipped for a broker the stack does not own.
 */
async function prepareSecureListener(context: StackContext): Promise<void> {
  const { kafka: layout, paths } = context;
  const files = kafkaTlsFiles(paths);
  const first = layout.nodes[0];
  if (!layout.secure || first === undefined) return;
  const common = {
    service: KAFKA,
    markerFile: scramMarkerOf(context),
    javaExecutable: javaForKafka(),
    libDir: libDirOf(context),
    logDir: logDirOf(context, first),
  };
  if (!layout.lockedDown) {
    if (!existsSync(files.scramPasswordFile)) return;
    const user = { name: files.scramUser, passwordFile: files.scramPasswordFile };
    const created = ensureScramUsers({ ...common, users: [user], bootstrapServer: first.address });
    if (created.length > 0) {
      context.log(
        `kafka: SASL_SSL listener on ${layout.nodes.map((n) => n.secureAddress).join(",")}: ` +
          `${SCRAM_MECHANISM} user ${files.scramUser}, password in ${files.scramPasswordFile}, CA certificate ${files.caFile}`,
      );
    }
    return;
  }
  const principals = ensureKafkaPasswords(paths);
  const changed = ensureScramUsers({
    ...common,
    users: allPrincipals(principals),
    bootstrapServer: first.secureAddress,
    commandConfig: writeAdminClientProperties(paths, files, principals.admin),
  });
  if (changed.length > 0)
    context.log(`kafka: SCRAM users created or given new passwords: ${changed.join(", ")}`);
  const rules = await applyWorkerAcls(context, context.kafkaAclNames);
  context.log(`kafka: locked down; the workers' ${rules} ACL entries are in place`);
}

/**
 * Starts the layout's nodes that are not running (all of them, or only those `only` names) and
 * waits until each is ready; running nodes are left alone. One node on the default ports may be
 * someone else's broker, used as it is; a cluster's nodes are always the stack's own.
 */
export async function kafkaUp(
  context: StackContext,
  options: { only?: readonly string[] } = {},
): Promise<ServiceStatus[]> {
  const { kafka: layout, paths } = context;
  const unknown = (options.only ?? []).filter((name) => !layout.nodes.some((node) => node.name === name));
  if (unknown.length > 0)
    throw new StackError(KAFKA, `no node ${unknown.join(", ")} in a ${layout.nodes.length}-node layout`);
  const nodes = layout.nodes.filter((node) => options.only?.includes(node.name) ?? true);
  await assertLayoutFree(context);

  let prepared: Promise<{ java: string; files: Map<string, string> }> | undefined;
  const prepare = () => {
    prepared ??= (async () => {
      const java = javaForKafka();
      await downloadKafka(context);
      const files = writeProperties(context);
      await formatStorage(context, java, files);
      recordKafkaLayout(paths, layout);
      return { java, files };
    })();
    return prepared;
  };
  // Formatting is for the whole cluster at once, so it happens before any node starts.
  if (nodes.some((node) => daemonState(paths.run, node.name).kind !== "running")) {
    const external =
      layout.nodes.length === 1 && (await probeNode(context, nodes[0] as KafkaNode)()) === true;
    if (!external) await prepare();
  }

  const states = await Promise.all(
    nodes.map((node) =>
      bringUp({
        name: node.name,
        paths,
        probe: probeNode(context, node),
        start: async () => {
          const { java, files } = await prepare();
          return startNode(context, java, node, files.get(node.name) ?? "");
        },
        // A node of a cluster restarting on a busy two-core machine has taken over a minute.
        readyWithinMs: layout.nodes.length === 1 ? 90_000 : 180_000,
        log: context.log,
      }),
    ),
  );
  if (states.some((state) => state.kind !== "external")) await prepareSecureListener(context);
  return nodes.map((node, index) => ({
    name: node.name,
    address: nodeAddresses(context, node),
    state: states[index] ?? { kind: "stopped" },
    logFile: logFileOf(paths, node.name),
  }));
}

/** PLAINTEXT, the controller, and the SASL_SSL listener once the stack has given the node one. */
function nodeAddresses(context: StackContext, node: KafkaNode): string {
  if (context.kafka.lockedDown)
    return `SASL_SSL ${node.secureAddress} (SCRAM-SHA-512, ACLs; controller ${node.controllerAddress})`;
  const extras: string[] = [];
  if (context.kafka.secure && existsSync(kafkaTlsFiles(context.paths).caFile))
    extras.push(`SASL_SSL ${node.secureAddress}`);
  if (context.kafka.nodes.length > 1) extras.push(`controller ${node.controllerAddress}`);
  return extras.length > 0 ? `${node.address} (${extras.join(", ")})` : node.address;
}

/** Every node of the layout, as `status` shows them, plus any other node of this stack still running. */
export async function kafkaStatus(context: StackContext): Promise<ServiceStatus[]> {
  const { kafka: layout, paths } = context;
  const strays = recordedDaemons(paths.run, KAFKA_DAEMON).filter(
    (name) => !layout.nodes.some((node) => node.name === name),
  );
  return Promise.all([
    ...layout.nodes.map((node) =>
      observeService({
        name: node.name,
        address: nodeAddresses(context, node),
        paths,
        probe: probeNode(context, node),
      }),
    ),
    ...strays.map((name) =>
      observeService({
        name,
        address: "(not in this layout; pnpm stack down stops it)",
        paths,
        probe: async () => "not in this layout",
      }),
    ),
  ]);
}

/**
 * Stops every Kafka node this stack started, whatever layout it was started with, all at once:
 * one after the other, the last nodes would wait for a controller quorum that has already gone.
 */
export async function kafkaDown(context: StackContext): Promise<{ service: string; stopped: boolean }[]> {
  const names = recordedDaemons(context.paths.run, KAFKA_DAEMON);
  const stopped = await Promise.all(names.map((name) => stopDaemon(context.paths.run, name)));
  forgetKafkaLayout(context.paths);
  if (names.length === 0) return [{ service: KAFKA, stopped: false }];
  return names.map((service, index) => ({ service, stopped: stopped[index] ?? false }));
}

/** The log files of the layout's nodes (and of nodes of another layout), for `pnpm stack logs kafka`. */
export function kafkaLogNames(context: StackContext): string[] {
  const names = new Set([
    ...context.kafka.nodes.map((node) => node.name),
    ...recordedDaemons(context.paths.run, KAFKA_DAEMON),
  ]);
  return [...names];
}
