import { describe, expect, it } from "vitest";
import { databaseNameOf, maintenanceUrlOf } from "./connect.ts";

describe("database URLs", () => {
  it("names the database in the URL's path, decoded", () => {
    expect(databaseNameOf("postgres://u@h:5432/weather")).toBe("weather");
    expect(databaseNameOf("postgres://u@h/my%20db?sslmode=disable")).toBe("my db");
  });

  it("refuses a URL without a database", () => {
    expect(() => databaseNameOf("postgres://u@h:5432")).toThrow(/names no database/);
  });

  it("keeps server, credentials and options but swaps in the maintenance database", () => {
    expect(maintenanceUrlOf("postgres://u:secret@h:5433/weather?sslmode=require")).toBe(
      "postgres://u:secret@h:5433/postgres?sslmode=require",
    );
  });
});
