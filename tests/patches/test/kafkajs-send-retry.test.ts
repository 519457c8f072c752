import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";

/**
 * kafkajs's producer.send(), as patched (patches/kafkajs@2.2.4.patch), retried after the leader of
 * a partition died mid-send. The three-broker scenario tests/reliability/cluster/leader-kill.test.ts
 * found the bug on a real cluster (and holds the fix there): send()
 * resolved, but the readings of the partition whose leader had moved were never written. These
 * tests reproduce both failure modes deterministically on kafkajs's own send logic, with brokers
 * played by fakes.
 */
const require = createRequire(import.meta.url);
const createSendMessages = require("kafkajs/src/producer/sendMessages.js") as (
  deps: unknown,
) => (args: unknown) => Promise<{ topicName: string; partition: number }[]>;
const createRetry = require("kafkajs/src/retry/index.js") as (options: unknown) => unknown;

interface Produced {
  readonly broker: number;
  readonly partition: number;
  readonly firstSequence: number;
  readonly keys: string[];
}

interface TopicData {
  topic: string;
  partitions: { partition: number; firstSequence: number; messages: { key: string }[] }[];
}

const TOPIC = "readings";

/**
 * A cluster of three brokers whose metadata puts partition p on leader[p]; `refreshMetadata`
 * applies `afterRefresh` (the failover). Each broker's behaviour per attempt is scripted.
 */
function fakeCluster(options: {
  leaders: number[];
  afterRefresh: number[];
  produce: (broker: number, attempt: number, topicData: TopicData[]) => Promise<void>;
}) {
  let leaders = options.leaders;
  const produced: Produced[] = [];
  const attempts = new Map<number, number>();
  const sequences = new Map<number, number>();
  const locks = new Map<number, Promise<void>>();
  const releases = new Map<number, () => void>();
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: TopicData[] }) {
      const attempt = (attempts.get(nodeId) ?? 0) + 1;
      attempts.set(nodeId, attempt);
      await options.produce(nodeId, attempt, topicData);
      for (const { partitions } of topicData)
        for (const p of partitions)
          produced.push({
            broker: nodeId,
            partition: p.partition,
            firstSequence: p.firstSequence,
            keys: p.messages.map((m) => m.key),
          });
      return {
        topics: topicData.map(({ topic, partitions }) => ({
          topicName: topic,
          partitions: partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: "0" })),
        })),
      };
    },
  });
  const brokers = new Map([1, 2, 3].map((id) => [id, broker(id)]));
  const cluster = {
    targetTopics: new Set([TOPIC]),
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => {
      leaders = options.afterRefresh;
    },
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    removeBroker: () => {},
    findTopicPartitionMetadata: () => leaders.map((leader, partitionId) => ({ partitionId, leader })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const result: Record<number, number[]> = {};
      for (const id of partitions) {
        const partition = Number(id);
        const leader = leaders[partition] as number;
        result[leader] = [...(result[leader] ?? []), partition];
      }
      return result;
    },
    findBroker: async ({ nodeId }: { nodeId: string | number }) => brokers.get(Number(nodeId)),
  };
  const eosManager = {
    isTransactional: () => false,
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
    getSequence: (_topic: string, partition: number) => sequences.get(partition) ?? 0,
    updateSequence: (_topic: string, partition: number, increment: number) =>
      sequences.set(partition, (sequences.get(partition) ?? 0) + increment),
    async acquireBrokerLock({ nodeId }: { nodeId: number }) {
      while (locks.has(nodeId)) await locks.get(nodeId);
      locks.set(nodeId, new Promise<void>((resolve) => releases.set(nodeId, resolve)));
    },
    async releaseBrokerLock({ nodeId }: { nodeId: number }) {
      locks.delete(nodeId);
      releases.get(nodeId)?.();
    },
  };
  const logger = { debug: () => {}, error: () => {}, warn: () => {}, info: () => {} };
  const send = createSendMessages({
    logger,
    cluster,
    eosManager,
    // One message per partition: the message's key is its partition.
    partitioner: ({ message }: { message: { key: string } }) => Number(message.key),
    retrier: createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }),
  });
  const messages = options.leaders.map((_, partition) => ({ key: String(partition), value: "x" }));
  return {
    send: () => send({ acks: -1, timeout: 1_000, topicMessages: [{ topic: TOPIC, messages }] }),
    produced,
  };
}

function connectionClosed(): Error {
  return Object.assign(new Error("Closed connection"), {
    name: "KafkaJSConnectionClosedError",
    retriable: true,
  });
}

describe("kafkajs producer.send retried after a partition leader died", () => {
  it("sends the partition again to its new leader, even when that broker already answered", async () => {
    // Partition 2's leader (broker 3) dies during the send; broker 1, which has already
    // acknowledged partition 0, takes partition 2 over.
    const { send, produced } = fakeCluster({
      leaders: [1, 2, 3],
      afterRefresh: [1, 2, 1],
      produce: async (broker) => {
        if (broker === 3) throw connectionClosed();
      },
    });

    const acknowledged = await send();

    expect(acknowledged.map((a) => a.partition).sort()).toEqual([0, 1, 2]);
    expect(produced.filter((p) => p.partition === 2)).toEqual([
      { broker: 1, partition: 2, firstSequence: 0, keys: ["2"] },
    ]);
  });

  it("never sends an acknowledged partition again, and retries only once every request has settled", async () => {
    // Broker 3 fails at once while broker 2 is still writing partition 1: a retry that did not
    // wait for broker 2 would send partition 1 a second time under a new sequence number.
    const { send, produced } = fakeCluster({
      leaders: [1, 2, 3],
      afterRefresh: [1, 2, 2],
      produce: async (broker, attempt) => {
        if (broker === 3) throw connectionClosed();
        if (broker === 2 && attempt === 1) await sleep(50);
      },
    });

    await send();

    const partition1 = produced.filter((p) => p.partition === 1);
    expect(partition1).toEqual([{ broker: 2, partition: 1, firstSequence: 0, keys: ["1"] }]);
    expect(produced.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
  });
});
