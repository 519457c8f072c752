import type { MaintenanceResult } from "@weather/db";
import { describe, expect, it } from "vitest";
import { formatMaintenance, summarizeMaintenance } from "./maintenance-outcome.ts";

const idle: MaintenanceResult = {
  oldestKept: "2025-11",
  cities: ["winnipeg", "vancouver"].map((city) => ({
    table: `weather_readings_${city}`,
    created: [],
    movedRows: 0,
    dropped: [],
    oldRowsInDefault: 0,
  })),
};

describe("the maintenance's summary", () => {
  it("says a run with nothing to do changed nothing", () => {
    const summary = summarizeMaintenance(idle);
    expect(summary).toEqual({ created: [], moved: [], dropped: [], kept: [] });
    expect(formatMaintenance(summary, idle)).toBe(
      "maintenance: done, 2 city tables, months from 2025-11 kept; nothing to do, everything was in place",
    );
  });

  it("lists the months created, the rows moved, the months dropped and the old rows it left", () => {
    const result: MaintenanceResult = {
      oldestKept: "2025-11",
      cities: [
        {
          table: "weather_readings_winnipeg",
          created: ["2027-03", "2025-12", "2026-01"],
          movedRows: 1,
          dropped: ["weather_readings_winnipeg_2025_09", "weather_readings_winnipeg_2025_10"],
          oldRowsInDefault: 2,
        },
      ],
    };
    const summary = summarizeMaintenance(result);
    expect(summary).toEqual({
      created: ["months 2025-12..2026-01, 2027-03 of weather_readings_winnipeg"],
      moved: ["1 row of weather_readings_winnipeg out of its default partition"],
      dropped: ["weather_readings_winnipeg_2025_09", "weather_readings_winnipeg_2025_10"],
      kept: [
        expect.stringMatching(/^2 rows older than 2025-11 in weather_readings_winnipeg's default partition/),
      ],
    });
    expect(formatMaintenance(summary, { ...result, oldestKept: undefined })).toMatch(
      /^maintenance: done, 1 city table, every month kept\ncreated:\n {2}- months 2025-12/,
    );
  });
});
