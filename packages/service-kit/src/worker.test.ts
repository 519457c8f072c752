import { ConfigError } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { DependencyUnavailableError, EXIT_CODES } from "./errors.ts";
import { describeFailure } from "./worker.ts";

describe("describeFailure", () => {
  it("puts every configuration problem on one line", () => {
    const { line, exitCode } = describeFailure(
      "bootstrap",
      new ConfigError([
        { setting: "DATABASE_URL", message: "must be a postgres:// URL" },
        { setting: "READINGS_PARTITIONS", message: "must be at least 1" },
      ]),
    );
    expect(exitCode).toBe(EXIT_CODES.CONFIGURATION);
    expect(line).toBe(
      "bootstrap: invalid configuration: DATABASE_URL: must be a postgres:// URL; READINGS_PARTITIONS: must be at least 1",
    );
  });

  it("says what failed, where, why and what to try", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const { line, exitCode } = describeFailure(
      "bootstrap",
      new DependencyUnavailableError("Kafka", cause, "run: pnpm stack up"),
    );
    expect(exitCode).toBe(EXIT_CODES.DEPENDENCY_UNAVAILABLE);
    expect(line).toBe(
      "bootstrap: Kafka unavailable: connect ECONNREFUSED 127.0.0.1:1; hint: run: pnpm stack up",
    );
    expect(line).not.toContain("\n");
  });
});
