import { ReadingDecodeError, type WeatherReading } from "@weather/schema";
import { describe, expect, it } from "vitest";
import { classifyMessage } from "./classify.ts";
import { DependencyUnavailableError } from "./outage.ts";

const reading: WeatherReading = {
  readingId: "3f1c9a4e-8d2b-4c7a-9e1f-0a2b3c4d5e6f",
  stationId: "CYWG",
  city: "winnipeg",
  observedAt: new Date("2025-01-01T00:00:00Z"),
  temperatureC: -20,
  windSpeedKmh: 10,
  humidityPct: 70,
  pressureHpa: null,
};

describe("classifyMessage", () => {
  it("passes a decoded reading through", async () => {
    const outcome = await classifyMessage({ value: Buffer.from([0]) }, { decode: async () => reading });
    expect(outcome).toEqual({ ok: true, reading });
  });

  it("turns a decode error into poison named by its kind", async () => {
    const decoder = {
      decode: async () => {
        throw new ReadingDecodeError("unknown-schema", "no schema 999");
      },
    };
    expect(await classifyMessage({ value: Buffer.from([0]) }, decoder)).toEqual({
      ok: false,
      poison: { errorClass: "ReadingDecodeError", kind: "unknown-schema", message: "no schema 999" },
    });
  });

  it("dead-letters a message without a value", async () => {
    const outcome = await classifyMessage({ value: null }, { decode: async () => reading });
    expect(outcome).toMatchObject({ ok: false, poison: { kind: "empty-value" } });
  });

  it("treats any other failure as the registry being down, to retry and not dead-letter", async () => {
    const decoder = {
      decode: async () => {
        throw new Error("ECONNREFUSED");
      },
    };
    await expect(classifyMessage({ value: Buffer.from([0]) }, decoder)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });
});
