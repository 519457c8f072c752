import { existsSync } from "node:fs";
import { join } from "node:path";
import { kafkaStatus } from "@weather/infra";
import { exitWithin, killAllWorkers, stopWorker, tail } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClusterWorld,
  partitionStates,
  startSink,
  startSteadyProducer,
  steadyProducerArgs,
  topicSetting,
  waitUntilAllStored,
} from "../src/cluster-load.ts";
import {
  CLUSTER_BOOTSTRAP_SERVERS,
  clusterContext,
  clusterNodes,
  clusterPaths,
} from "../src/cluster-stack.ts";
import { report } from "../src/report.ts";
import type { World } from "../src/world.ts";

const TEST = "cluster-replication";

describe("the three-node cluster and what bootstrap makes on it", () => {
  let world: World;

  beforeAll(async () => {
    world = await createClusterWorld("replication");
  });
  afterAll(async () => {
    await killAllWorkers();
    await world?.close();
  });

  it("runs three combined nodes, each with its own ports, pid, log and data", async () => {
    const statuses = await kafkaStatus(clusterContext());
    report(TEST, ...statuses.map((s) => `${s.name}: ${s.state.kind} at ${s.address}, log ${s.logFile}`));
    expect(statuses.map((s) => s.name)).toEqual(["kafka-1", "kafka-2", "kafka-3"]);
    expect(statuses.every((s) => s.state.kind === "running")).toBe(true);
    const addresses = clusterNodes.flatMap((n) => [n.address, n.controllerAddress]);
    expect(new Set(addresses).size).toBe(6);
    expect(CLUSTER_BOOTSTRAP_SERVERS.split(",")).toEqual(clusterNodes.map((n) => n.address));
    for (const node of clusterNodes) {
      expect(existsSync(join(clusterPaths.data, node.name, "log-dirs", "meta.properties")), node.name).toBe(
        true,
      );
      expect(existsSync(join(clusterPaths.logs, `${node.name}.log`)), node.name).toBe(true);
    }
    const cluster = await world.admin.describeCluster();
    expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
  });

  it("creates the readings topic and its dead-letter topic with three copies and min.insync.replicas=2", async () => {
    for (const topic of [world.topic, world.deadLetterTopic]) {
      const partitions = await partitionStates(world.admin, topic);
      const minInSync = await topicSetting(world.admin, topic, "min.insync.replicas");
      const leaders = new Set(partitions.map((p) => p.leader));
      report(
        TEST,
        `${topic}: ${partitions.length} partitions, replicas ${partitions.map((p) => p.replicas.join("/")).join(" ")}, ` +
          `leaders on nodes ${[...leaders].sort().join(",")}, min.insync.replicas=${minInSync}`,
      );
      expect(partitions).toHaveLength(world.partitions);
      for (const p of partitions) {
        expect([...p.replicas].sort(), `${topic}[${p.partition}]`).toEqual([1, 2, 3]);
        expect(p.isr, `${topic}[${p.partition}]`).toHaveLength(3);
      }
      expect(leaders.size, "leadership is spread over the nodes").toBe(3);
      expect(minInSync).toBe("2");
    }
  });

  it("keeps the consumer offsets three times, needing two copies of a commit", async () => {
    // A consumer group's first run makes the broker create __consumer_offsets.
    const sink = startSink(world, "sink");
    const producer = startSteadyProducer(
      world,
      steadyProducerArgs({ rate: 2_000, perStation: 100, seed: "replication" }),
    );
    const exit = await exitWithin(producer.worker, 120_000);
    expect(exit.code, tail(producer.worker.output())).toBe(0);
    await waitUntilAllStored(world, [sink.worker]);
    expect((await stopWorker(sink.worker)).code, tail(sink.worker.output())).toBe(0);

    const offsets = await partitionStates(world.admin, "__consumer_offsets");
    const minInSync = await topicSetting(world.admin, "__consumer_offsets", "min.insync.replicas");
    report(
      TEST,
      `__consumer_offsets: ${offsets.length} partitions, replication ${offsets[0]?.replicas.length}, min.insync.replicas=${minInSync}`,
    );
    expect(offsets.length).toBeGreaterThan(0);
    expect(offsets.every((p) => p.replicas.length === 3)).toBe(true);
    expect(minInSync).toBe("2");
  });

  it("keeps the transaction state three times, needing two copies", async () => {
    // The first transactional producer makes the broker create __transaction_state.
    const producer = world.kafka.producer({
      transactionalId: `${world.runId}-tx`,
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      await transaction.abort();
    } finally {
      await producer.disconnect();
    }
    const state = await partitionStates(world.admin, "__transaction_state");
    const minInSync = await topicSetting(world.admin, "__transaction_state", "min.insync.replicas");
    report(
      TEST,
      `__transaction_state: ${state.length} partitions, replication ${state[0]?.replicas.length}, min.insync.replicas=${minInSync}`,
    );
    expect(state.length).toBeGreaterThan(0);
    expect(state.every((p) => p.replicas.length === 3)).toBe(true);
    expect(minInSync).toBe("2");
  });
});
