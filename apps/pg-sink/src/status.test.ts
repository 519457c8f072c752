import { describe, expect, it } from "vitest";
import { createSinkStatus, readinessOf, type SinkStatus } from "./status.ts";

describe("readinessOf", () => {
  const working: SinkStatus = { connected: true, assignedPartitions: [0, 2], waitingFor: undefined };

  it("is ready while connected, holding partitions and waiting for nothing", () => {
    expect(readinessOf(working)).toEqual({
      ready: true,
      connected: true,
      assignedPartitions: [0, 2],
      waitingFor: null,
    });
  });

  it.each<[string, SinkStatus]>([
    ["before the consumer connects", createSinkStatus()],
    ["while the group rebalances (no partitions)", { ...working, assignedPartitions: [] }],
    ["while waiting for a dependency", { ...working, waitingFor: "PostgreSQL" }],
  ])("is not ready %s, and says why", (_, status) => {
    expect(readinessOf(status)).toEqual({
      ready: false,
      connected: status.connected,
      assignedPartitions: status.assignedPartitions,
      waitingFor: status.waitingFor ?? null,
    });
  });
});
