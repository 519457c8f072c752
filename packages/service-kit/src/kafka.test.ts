import { type LogEntry, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaLevelOf, kafkaLogLevelFor } from "./kafka.ts";
import { createLogger } from "./logger.ts";

/** A kafkajs log entry as its loggers hand it to a logCreator. */
function entry(level: logLevel, namespace: string, extra: Record<string, unknown> = {}): LogEntry {
  return {
    namespace,
    level,
    label: logLevel[level] ?? "",
    log: { timestamp: "2026-01-01T00:00:00.000Z", message: "whatever kafkajs says", ...extra },
  };
}

/** kafkajs's own error classes, as its code builds them (its type declarations list fewer arguments). */
const kafkajs = await import("kafkajs");
const retriable = new kafkajs.KafkaJSError("leader moved"); // retriable unless told otherwise
const final = new (kafkajs.KafkaJSNonRetriableError as unknown as new (message: string) => Error)("no");

describe("kafkaLevelOf: kafkajs's lines at the level they deserve, from their structure", () => {
  it("keeps kafkajs's INFO and DEBUG chatter out of sight", () => {
    expect(kafkaLevelOf(entry(logLevel.INFO, "Consumer"))).toBe("debug");
    expect(kafkaLevelOf(entry(logLevel.DEBUG, "Connection"))).toBe("trace");
  });

  it("leaves a connection's failures to the requester that retries or reports them", () => {
    expect(kafkaLevelOf(entry(logLevel.ERROR, "Connection", { error: "The coordinator is loading" }))).toBe(
      "debug",
    );
    expect(kafkaLevelOf(entry(logLevel.ERROR, "Connection", { stack: "Error: connect ECONNREFUSED" }))).toBe(
      "debug",
    );
  });

  it("does not call an attempt of a retry loop an error, and warns once the condition lasts", () => {
    expect(kafkaLevelOf(entry(logLevel.ERROR, "Consumer", { retryCount: 0, retryTime: 300 }))).toBe("debug");
    expect(kafkaLevelOf(entry(logLevel.ERROR, "Messages", { retryCount: 2, retryTime: 900 }))).toBe("debug");
    expect(kafkaLevelOf(entry(logLevel.ERROR, "BrokerPool", { retryCount: 4, retryTime: 5000 }))).toBe(
      "warn",
    );
    expect(kafkaLevelOf(entry(logLevel.WARN, "Admin", { retryCount: 1, retryTime: 300 }))).toBe("debug");
  });

  it("follows the retriable flag of the kafkajs error a line carries", () => {
    expect(kafkaLevelOf(entry(logLevel.ERROR, "Runner", { error: retriable }))).toBe("debug");
    expect(kafkaLevelOf(entry(logLevel.ERROR, "Runner", { error: final }))).toBe("error");
    expect(kafkaLevelOf(entry(logLevel.ERROR, "Runner", { error: new TypeError("ours") }))).toBe("error");
  });

  it("keeps everything else at kafkajs's level, whatever its text", () => {
    expect(kafkaLevelOf(entry(logLevel.ERROR, "SASLPlainAuthenticator"))).toBe("error");
    expect(kafkaLevelOf(entry(logLevel.WARN, "Runner", { error: "The group is rebalancing" }))).toBe("warn");
  });
});

describe("kafkaLogLevelFor: kafkajs logs at the logger's level", () => {
  it.each([
    ["trace", logLevel.DEBUG],
    ["debug", logLevel.INFO],
    ["info", logLevel.WARN],
    ["warn", logLevel.WARN],
    ["error", logLevel.ERROR],
    ["fatal", logLevel.NOTHING],
    ["silent", logLevel.NOTHING],
  ] as const)("LOG_LEVEL=%s: kafkajs level %i", (level, expected) => {
    expect(kafkaLogLevelFor(createLogger("test", { level, format: "json" }))).toBe(expected);
  });
});
