import { readFileSync } from "node:fs";
import { join } from "node:path";
import { workerKafkaAcls } from "@weather/schema";
import { kafkaAclTable } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/paths.ts";

describe("docs/kafka-cluster.md", () => {
  it("shows the workers' ACLs exactly as workerKafkaAcls declares them (regenerate: pnpm stack acls)", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs", "kafka-cluster.md"), "utf8");
    const shown = /<!-- kafka-acls:begin[^>]*-->\n([\s\S]*?)\n<!-- kafka-acls:end -->/.exec(doc)?.[1];
    expect(shown).toBe(kafkaAclTable(workerKafkaAcls()));
  });
});
