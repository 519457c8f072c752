import { describe, expect, it } from "vitest";
import { breakDownLatency } from "./breakdown.ts";
import type { TransactionTrace } from "./pg-transactions.ts";
import type { WorkerTrace } from "./recorder.ts";

/** Two chunks of partition 0 (offsets 0-1 and 2-3), each fetched, handed to eachBatch and stored. */
const consumer: Pick<WorkerTrace, "requests" | "batches" | "transactions"> = {
  requests: [
    { api: "Fetch", createdAt: 1000, sentAt: 1000, answeredAt: 1003, size: 500 },
    { api: "Fetch", createdAt: 1020, sentAt: 1020, answeredAt: 1021, size: 500 },
  ],
  batches: [
    { partition: 0, firstOffset: 0, lastOffset: 1, messages: 2, startAt: 1003.5, endAt: 1010 },
    { partition: 0, firstOffset: 2, lastOffset: 3, messages: 2, startAt: 1021.5, endAt: 1030 },
  ],
  transactions: [
    tx({ beginAt: 1004, endSentAt: 1007, endedAt: 1008, nextOffset: 2 }),
    tx({ beginAt: 1022, endSentAt: 1026, endedAt: 1028, nextOffset: 4 }),
  ],
};

function tx(t: Pick<TransactionTrace, "beginAt" | "endSentAt" | "endedAt" | "nextOffset">): TransactionTrace {
  return {
    ...t,
    connection: 1,
    outcome: "commit",
    partition: 0,
    copyBytes: 100,
    roundTrips: [
      { label: "begin", clientMs: 0, serverMs: 1 },
      { label: "commit", clientMs: 1, serverMs: 1 },
    ],
  };
}

const producer = {
  requests: [
    { api: "Produce", createdAt: 1000, sentAt: 1000, answeredAt: 1002, size: 10 },
    { api: "Produce", createdAt: 1015, sentAt: 1015, answeredAt: 1017, size: 10 },
  ],
} as WorkerTrace;

describe("breakDownLatency", () => {
  const messages = [
    { partition: 0, offset: 0, sentAt: 1000 },
    { partition: 0, offset: 1, sentAt: 1000 },
    { partition: 0, offset: 2, sentAt: 1015 },
    { partition: 0, offset: 3, sentAt: 1015 },
  ];
  const visibleAt = (_: number, offset: number) => (offset < 2 ? 1008.5 : 1029);

  it("follows each message through its Fetch, batch, transaction and NOTIFY", () => {
    const b = breakDownLatency({ messages, producer, consumer, visibleAt });
    expect(b.traced).toBe(4);
    expect(b.phases.kafka.mean).toBe((3 + 3 + 6 + 6) / 4);
    expect(b.phases.handOver.p50).toBe(0.5);
    expect(b.phases.prepare.p50).toBe(0.5);
    expect(b.phases.statements.mean).toBe(3.5);
    expect(b.phases.commit.mean).toBe(1.5);
    expect(b.phases.visible.mean).toBe(0.75);
    expect(b.produceAck.p50).toBe(2);
    // The second chunk's Fetch went out 3 ms after its messages were acknowledged.
    expect(b.waitedShare).toBe(0.5);
    expect(b.waitedForFetch.p99).toBe(3);
    expect(b.transactions?.roundTrips.p50).toBe(2);
    expect(b.transactions?.typical).toBe("begin | commit");
    expect(b.transactions?.rows.p50).toBe(2);
    expect(b.fetches.batchesPerFetch).toBe(1);
  });

  it("follows only Kafka's steps for a consumer without a database", () => {
    const b = breakDownLatency({ messages, producer, consumer: { ...consumer, transactions: [] } });
    expect(b.traced).toBe(4);
    expect(b.phases.statements.samples).toBe(0);
    expect(b.transactions).toBeUndefined();
  });

  it("leaves out messages no batch covers", () => {
    const b = breakDownLatency({ messages: [{ partition: 5, offset: 0, sentAt: 1000 }], producer, consumer });
    expect(b.traced).toBe(0);
  });
});
