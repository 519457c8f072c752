import { describe, expect, it } from "vitest";
import { findJava, parseJavaMajor } from "./java.ts";

describe("parseJavaMajor", () => {
  it("reads modern and legacy version strings", () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "25" 2025-09-16')).toBe(25);
    expect(parseJavaMajor('java version "1.8.0_402"')).toBe(8);
    expect(parseJavaMajor("no version here")).toBeUndefined();
  });
});

describe("findJava", () => {
  it("explains what it found when no runtime is new enough", () => {
    const result = findJava(999);
    expect("problem" in result && result.problem).toMatch(/needs Java 999 or newer; found: .*java/);
  });

  it("finds the machine's Java for Kafka", () => {
    const result = findJava(17);
    expect("runtime" in result && result.runtime.major).toBeGreaterThanOrEqual(17);
  });
});
