import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureKafkaJars } from "../src/kafka-jars.ts";
import { stackPaths } from "../src/paths.ts";
import { kafkaVersion } from "../src/versions.ts";

// The bench runs ProducerPerformance from Kafka's jars even when the broker it measures was
// started by another checkout's stack, so this checkout never downloaded them.
describe("Kafka's jars for a checkout whose stack never started Kafka", () => {
  const root = mkdtempSync(join(tmpdir(), "stack-jars-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("fetches them into the download cache once, then finds them there", { timeout: 300_000 }, async () => {
    const messages: string[] = [];
    const libDir = await ensureKafkaJars(stackPaths(root), (message) => messages.push(message));
    expect(existsSync(join(libDir, `kafka_2.13-${kafkaVersion()}.jar`))).toBe(true);
    expect(readdirSync(libDir).some((jar) => jar.startsWith("kafka-tools-"))).toBe(true);
    expect(messages.join("\n")).toContain("downloading kafka");

    const again: string[] = [];
    expect(await ensureKafkaJars(stackPaths(root), (message) => again.push(message))).toBe(libDir);
    expect(again.join("\n")).not.toContain("downloading");
  });
});
