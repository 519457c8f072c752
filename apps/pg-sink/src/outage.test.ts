import { describe, expect, it } from "vitest";
import { isTransientDatabaseError } from "./outage.ts";

describe("isTransientDatabaseError", () => {
  it("waits out broken connections and terminated backends", () => {
    for (const code of [
      "ECONNREFUSED",
      "CONNECTION_CLOSED",
      "57P01",
      "08006",
      "40001",
      "40P01",
      "53300",
      "3D000",
    ]) {
      expect(isTransientDatabaseError({ code }), code).toBe(true);
    }
  });

  it("does not wait out bugs and bad data", () => {
    for (const value of [new TypeError("x"), { code: "22P02" }, { code: "42703" }, null, "57P01"]) {
      expect(isTransientDatabaseError(value)).toBe(false);
    }
  });
});
