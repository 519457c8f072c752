import { describe, expect, it } from "vitest";
import { isPostgresNullSocketBug } from "./database.ts";

describe("isPostgresNullSocketBug", () => {
  it("recognises postgres.js writing to a closed socket", () => {
    const error = new TypeError("Cannot read properties of null (reading 'write')");
    error.stack = `${error.message}\n    at Immediate.nextWrite (/x/node_modules/postgres/src/connection.js:255:22)`;
    expect(isPostgresNullSocketBug(error)).toBe(true);
  });

  it("hides no other error", () => {
    const elsewhere = new TypeError("Cannot read properties of null (reading 'write')");
    elsewhere.stack = `${elsewhere.message}\n    at nextWrite (/x/src/mine.ts:1:1)`;
    expect(isPostgresNullSocketBug(elsewhere)).toBe(false);
    expect(isPostgresNullSocketBug(new Error("boom"))).toBe(false);
  });
});
