import { describe, expect, it } from "vitest";
import { type BootstrapOutcome, formatSummary, summarize } from "./outcome.ts";

function outcome(fresh: boolean, partitions = 6): BootstrapOutcome {
  return {
    database: {
      database: "weather",
      databaseCreated: fresh,
      migrations: { applied: fresh ? 1 : 0, total: 1 },
      partitions: fresh
        ? { created: ["weather_readings_winnipeg"], existing: [] }
        : { created: [], existing: ["weather_readings_winnipeg"] },
      months: [
        {
          table: "weather_readings_winnipeg",
          created: fresh ? ["2026-10", "2026-11", "2026-12", "2027-02"] : [],
          existing: fresh ? [] : ["2026-10", "2026-11", "2026-12", "2027-02"],
          movedRows: fresh ? 3 : 0,
        },
      ],
    },
    topics: [
      {
        topic: "weather.readings",
        status: fresh ? "created" : partitions === 6 ? "found" : "conflict",
        partitions,
        expectedPartitions: 6,
        replicationFactor: 1,
      },
    ],
    schemas: {
      subjects: [
        {
          subject: "weather.readings-value",
          format: "avro",
          id: 7,
          created: fresh,
          compatibilityBefore: fresh ? undefined : "BACKWARD",
        },
      ],
    },
  };
}

describe("summarize", () => {
  it("lists everything a first run made as created", () => {
    const summary = summarize(outcome(true));
    expect(summary.found).toEqual([]);
    expect(summary.created).toContain("database weather");
    expect(summary.created).toContain("table weather_readings_winnipeg");
    expect(summary.created).toContain(
      "months 2026-10..2026-12, 2027-02 of weather_readings_winnipeg (3 rows moved out of its default partition)",
    );
    expect(summary.created).toContain("topic weather.readings (6 partitions, replication 1)");
    expect(summary.created).toContain("avro schema id 7 under weather.readings-value");
    expect(summary.created).toContain("compatibility BACKWARD on weather.readings-value (was unset)");
    expect(formatSummary(summary)).toMatch(/^bootstrap: ready\ncreated:\n {2}- database weather/);
  });

  it("says nothing was created on a second run", () => {
    const summary = summarize(outcome(false));
    expect(summary.created).toEqual([]);
    expect(summary.conflicts).toEqual([]);
    expect(formatSummary(summary)).toContain("nothing to do, everything was in place\ncreated: nothing");
    expect(summary.found).toContain("months 2026-10..2026-12, 2027-02 of weather_readings_winnipeg");
  });

  it("flags a topic with another partition count as a conflict, with the fix", () => {
    const summary = summarize(outcome(false, 3));
    expect(summary.conflicts).toEqual([
      expect.stringMatching(
        /topic weather.readings has 3 partitions but READINGS_PARTITIONS is 6: set READINGS_PARTITIONS=3/,
      ),
    ]);
    expect(formatSummary(summary)).toMatch(/^bootstrap: NOT READY, 1 conflict/);
  });
});
