import { ConfigError } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { BootstrapError, describeFailure, EXIT } from "./errors.ts";

describe("describeFailure", () => {
  it("puts every configuration problem on one line", () => {
    const { line, exitCode } = describeFailure(
      new ConfigError([
        { setting: "DATABASE_URL", message: "must be a postgres:// URL" },
        { setting: "READINGS_PARTITIONS", message: "must be at least 1" },
      ]),
    );
    expect(exitCode).toBe(EXIT.badConfiguration);
    expect(line).toBe(
      "bootstrap: invalid configuration: DATABASE_URL: must be a postgres:// URL; READINGS_PARTITIONS: must be at least 1",
    );
  });

  it("says what failed, where, why and what to try", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const { line, exitCode } = describeFailure(
      new BootstrapError("cannot reach Kafka", "127.0.0.1:1", cause, "run: pnpm stack up"),
    );
    expect(exitCode).toBe(EXIT.serviceFailed);
    expect(line).toBe(
      "bootstrap: cannot reach Kafka at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1; hint: run: pnpm stack up",
    );
    expect(line).not.toContain("\n");
  });
});
