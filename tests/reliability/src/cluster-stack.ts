import {
  daemonState,
  type KafkaNode,
  kafkaUp,
  killDaemon,
  type StackContext,
  sideClusterContext,
  stopDaemon,
} from "@weather/infra";
import { report } from "./report.ts";

/**
 * The three-node cluster the cluster scenarios run on: the stack manager's side cluster, started
 * and stopped by `test:cluster` (src/run-cluster-task.ts) on ports and in a folder of its own, so
 * the one broker everyone else uses (9092-9094, .stack/) is never touched. It shares that stack's
 * downloads, PostgreSQL and registry.
 */
export function clusterContext(log: (message: string) => void = (m) => report("cluster", m)): StackContext {
  return sideClusterContext(log);
}

const context = clusterContext();
/** `<STACK_DIR>/cluster`: the cluster's data, logs and pids. */
export const clusterPaths = context.paths;

/** The cluster's nodes, in node id order. */
export const clusterNodes: readonly KafkaNode[] = context.kafka.nodes;

/** KAFKA_BROKERS for the cluster: every node's PLAINTEXT address. */
export const CLUSTER_BOOTSTRAP_SERVERS = context.kafka.bootstrapServers;

export function nodeById(id: number): KafkaNode {
  const node = clusterNodes.find((n) => n.id === id);
  if (node === undefined) throw new Error(`the test cluster has no node ${id}`);
  return node;
}

/**
 * Fails unless this process talks to the test cluster and all of it runs: a scenario run outside
 * `test:cluster` would otherwise meet the shared broker, or no Kafka at all.
 */
export function assertClusterRunning(): void {
  const brokers = process.env.KAFKA_BROKERS;
  const down = clusterNodes.filter((node) => daemonState(clusterPaths.run, node.name).kind !== "running");
  if (brokers !== CLUSTER_BOOTSTRAP_SERVERS || down.length > 0) {
    throw new Error(
      `the cluster scenarios need the test cluster (${CLUSTER_BOOTSTRAP_SERVERS}) running and KAFKA_BROKERS naming it ` +
        `(KAFKA_BROKERS=${brokers ?? "unset"}; not running: ${down.map((n) => n.name).join(", ") || "none"}); ` +
        "run them with: pnpm --filter reliability-suite test:cluster",
    );
  }
}

/** SIGKILLs a node's JVM: a crash, no controlled shutdown. Resolves once the process is gone. */
export async function killNode(node: KafkaNode): Promise<void> {
  if (!(await killDaemon(clusterPaths.run, node.name)))
    throw new Error(`${node.name} was not running under the test cluster; nothing was killed`);
}

/** Stops a node as an operator does (SIGTERM: controlled shutdown, leadership moves first). */
export async function stopNode(node: KafkaNode): Promise<void> {
  if (!(await stopDaemon(clusterPaths.run, node.name)))
    throw new Error(`${node.name} was not running under the test cluster; nothing was stopped`);
}

/** Starts the given nodes (those not running) and waits until each is a live broker again. */
export async function startNodes(nodes: readonly KafkaNode[]): Promise<void> {
  await kafkaUp(context, { only: nodes.map((node) => node.name) });
}

/** Starts every node that is not running: what a scenario's afterAll does, pass or fail. */
export async function startAllNodes(): Promise<void> {
  await kafkaUp(context);
}

export function isNodeRunning(node: KafkaNode): boolean {
  return daemonState(clusterPaths.run, node.name).kind === "running";
}
