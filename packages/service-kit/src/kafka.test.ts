import { logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaLevelOf } from "./kafka.ts";

describe("kafkaLevelOf: kafkajs's lines at the level they deserve", () => {
  it("does not call a condition Kafka marks retriable an error while kafkajs retries it", () => {
    const loading = "The coordinator is loading and hence can't process requests for this group";
    expect(kafkaLevelOf(logLevel.ERROR, loading, {})).toBe("debug");
    expect(kafkaLevelOf(logLevel.ERROR, "The group coordinator is not available", {})).toBe("debug");
    expect(kafkaLevelOf(logLevel.ERROR, "Restarting the consumer in 300ms", { retryCount: 0 })).toBe("debug");
    expect(
      kafkaLevelOf(logLevel.ERROR, "Failed to send messages: x", { retryCount: 1, retryTime: 300 }),
    ).toBe("debug");
  });

  it("warns once a retried condition lasts", () => {
    expect(
      kafkaLevelOf(logLevel.ERROR, "Connection error: ECONNREFUSED", { retryCount: 4, retryTime: 5000 }),
    ).toBe("warn");
  });

  it("keeps real errors errors, and kafkajs's INFO chatter out of sight", () => {
    expect(kafkaLevelOf(logLevel.ERROR, "SASL SCRAM SHA512 authentication failed", {})).toBe("error");
    expect(kafkaLevelOf(logLevel.WARN, "Offset out of range", {})).toBe("warn");
    expect(kafkaLevelOf(logLevel.INFO, "Consumer has joined the group", {})).toBe("debug");
    expect(kafkaLevelOf(logLevel.DEBUG, "Request Metadata(key: 3, version: 6)", {})).toBe("trace");
  });
});
