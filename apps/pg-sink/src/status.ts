import type { Dependency, Readiness } from "@weather/service-kit";

/**
 * What /readyz reports. The consumer's events keep `connected` and `assignedPartitions` current
 * (readings-consumer.ts), the batch handler `waitingFor` (batch-handler.ts).
 */
export interface SinkStatus {
  connected: boolean;
  assignedPartitions: number[];
  waitingFor: Dependency | undefined;
}

/** A sink that has not connected yet. */
export function createSinkStatus(): SinkStatus {
  return { connected: false, assignedPartitions: [], waitingFor: undefined };
}

/** Ready while connected, holding partitions and waiting for nothing; the reason otherwise. */
export function readinessOf(status: SinkStatus): Readiness {
  return {
    ready: status.connected && status.assignedPartitions.length > 0 && status.waitingFor === undefined,
    connected: status.connected,
    assignedPartitions: status.assignedPartitions,
    waitingFor: status.waitingFor ?? null,
  };
}
