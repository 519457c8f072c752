import { describeFailure, EXIT_CODES } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { BootstrapError } from "./errors.ts";

describe("BootstrapError", () => {
  it("says what failed, where, why and what to try", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const { line, exitCode } = describeFailure(
      "bootstrap",
      new BootstrapError("cannot reach Kafka", "127.0.0.1:1", cause, "run: pnpm stack up"),
    );
    expect(exitCode).toBe(EXIT_CODES.DEPENDENCY_UNAVAILABLE);
    expect(line).toBe(
      "bootstrap: cannot reach Kafka at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1; hint: run: pnpm stack up",
    );
    expect(line).not.toContain("\n");
  });
});
