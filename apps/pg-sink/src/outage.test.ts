import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { isTransientDatabaseError } from "./outage.ts";

const PostgresError = postgres.PostgresError as unknown as new (fields: object) => Error;
const sqlstate = (code: string) => new PostgresError({ code, message: code, severity: "ERROR" });
const coded = (code: string) => Object.assign(new Error(code), { code });

describe("isTransientDatabaseError", () => {
  it("waits out broken connections, terminated backends, a failover and what bootstrap has not created yet", () => {
    for (const error of [
      coded("ECONNREFUSED"),
      coded("CONNECTION_CLOSED"),
      sqlstate("57P01"),
      sqlstate("08006"),
      sqlstate("40001"),
      sqlstate("40P01"),
      sqlstate("53300"),
      sqlstate("25006"),
      sqlstate("3D000"),
      sqlstate("42P01"),
      sqlstate("23514"),
    ]) {
      expect(isTransientDatabaseError(error), error.message).toBe(true);
    }
  });

  it("does not wait out bugs, bad data or a refusal", () => {
    for (const value of [
      new TypeError("x"),
      sqlstate("22P02"),
      sqlstate("42703"),
      sqlstate("28P01"),
      coded("SELF_SIGNED_CERT_IN_CHAIN"),
      null,
      "57P01",
    ]) {
      expect(isTransientDatabaseError(value)).toBe(false);
    }
  });
});
