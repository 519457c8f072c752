import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import { createKafka } from "@weather/service-kit";
import { testSettings } from "@weather/test-support";
import { afterEach, describe, expect, it, vi } from "vitest";

/**
 * kafkajs's request queue, as patched: a connection schedules a check of its queue only while
 * requests wait in it. Upstream scheduled one in every case, with a delay of minus "now" when
 * nothing was throttled: Node >= 23 warns about the negative delay on every connection
 * (tulios/kafkajs#1751), and every connection, idle or not, checked its queue once a millisecond.
 */
const require = createRequire(import.meta.url);

interface QueuedRequest {
  readonly entry: {
    readonly correlationId: number;
    readonly apiKey: number;
    readonly apiName: string;
    resolve(response: unknown): void;
    reject(error: unknown): void;
  };
  readonly expectResponse: boolean;
  sendRequest(): void;
}
interface RequestQueueLike {
  push(request: QueuedRequest): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = require("kafkajs/src/network/requestQueue") as {
  new (options: object): RequestQueueLike;
  prototype: RequestQueueLike;
};

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

afterEach(() => vi.restoreAllMocks());

describe("kafkajs's request queue, as patched", () => {
  it("talks to the broker without a negative timer, and checks no queue while nothing waits", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    const checks = vi.spyOn(RequestQueue.prototype, "checkPendingRequests");
    const admin = createKafka(testSettings.kafka, { clientId: "patch-tests-request-queue" }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      const before = checks.mock.calls.length;
      // Idle: upstream checked every connection's queue about once a millisecond meanwhile.
      await sleep(300);
      expect(checks.mock.calls.length - before).toBe(0);
    } finally {
      await admin.disconnect();
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("TimeoutNegativeWarning");
  });

  it("sends a request queued behind the in-flight limit when the one before is answered, and one queued behind a throttle once it ends", async () => {
    const queue = new RequestQueue({
      maxInFlightRequests: 1,
      requestTimeout: 30_000,
      enforceRequestTimeout: false,
      clientId: "patch-tests",
      broker: "fake:9092",
      logger: quiet,
    });
    const sent: number[] = [];
    const request = (correlationId: number): QueuedRequest => ({
      entry: { correlationId, apiKey: 3, apiName: "Metadata", resolve: () => {}, reject: () => {} },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });
    try {
      queue.push(request(1));
      queue.push(request(2));
      expect(sent).toEqual([1]);
      queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
      expect(sent).toEqual([1, 2]);
      queue.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });

      queue.maybeThrottle(50);
      queue.push(request(3));
      expect(sent).toEqual([1, 2]);
      await vi.waitFor(() => expect(sent).toEqual([1, 2, 3]), { timeout: 5_000 });
    } finally {
      queue.destroy();
    }
  });
});
