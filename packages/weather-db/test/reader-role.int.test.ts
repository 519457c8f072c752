import { randomUUID } from "node:crypto";
import { POSTGRES_CONNECTION } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectOnce,
  createDatabaseIfMissing,
  dropDatabaseIfExists,
  ensureReaderRole,
  prepareDatabase,
} from "../src/index.ts";

// A database and a role of this run only: roles belong to the whole server, shared by every test.
const runId = randomUUID().slice(0, 8);
const adminUrl = new URL(
  configurationOf({ groups: { postgres: POSTGRES_CONNECTION } }, process.env).postgres.url,
);
adminUrl.pathname = `/weather_test_reader_${runId}`;
const role = `weather_reader_test_${runId}`;
const readerUrl = new URL(adminUrl);
readerUrl.username = role;

/** The outcome of a statement: "allowed", or the SQLSTATE it failed with. */
const outcomeOf = (query: Promise<unknown>) =>
  query.then(
    () => "allowed",
    (error: { code?: string }) => error.code ?? String(error),
  );

describe("the read-only role", () => {
  let reader: postgres.Sql;

  beforeAll(async () => {
    await createDatabaseIfMissing(adminUrl.toString());
    await prepareDatabase(adminUrl.toString(), ["winnipeg", "vancouver"]);
    const admin = connectOnce(adminUrl.toString());
    try {
      await admin`insert into weather_readings (reading_id, station_id, city, observed_at, temperature_c,
        wind_speed_kmh, humidity_pct, source_topic, source_partition, source_offset)
        values (${randomUUID()}, 'CYWG', 'winnipeg', now(), -3.5, 12, 70, 't', 0, 0)`;
    } finally {
      await admin.end();
    }
    reader = postgres(readerUrl.toString(), { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await reader?.end({ timeout: 5 });
    await dropDatabaseIfExists(adminUrl.toString());
    const admin = connectOnce(new URL("/postgres", adminUrl).toString());
    try {
      await admin.unsafe(`drop role if exists "${role}"`);
    } finally {
      await admin.end();
    }
  });

  it("is created with SELECT on the readings, every city table, the offsets and the re-sends, and nothing more", async () => {
    const result = await ensureReaderRole(adminUrl.toString(), { role });
    expect(result).toMatchObject({ role, created: true });
    expect([...result.tables].sort()).toEqual([
      "consumer_offsets",
      "reading_resends",
      "weather_readings",
      "weather_readings_vancouver",
      "weather_readings_winnipeg",
    ]);
    const [row] = await reader<{ n: number }[]>`select count(*)::int as n from weather_readings`;
    expect(row?.n).toBe(1);
    expect(await outcomeOf(reader`select count(*) from weather_readings_winnipeg`)).toBe("allowed");
    expect(await outcomeOf(reader`select count(*) from consumer_offsets`)).toBe("allowed");
    expect(await outcomeOf(reader`select count(*) from reading_resends`)).toBe("allowed");
  });

  it("cannot INSERT, UPDATE, DELETE or TRUNCATE, even with its sessions' read-only default switched off", async () => {
    await reader`set default_transaction_read_only = off`;
    const insert = reader`insert into weather_readings (reading_id, station_id, city, observed_at,
      temperature_c, wind_speed_kmh, humidity_pct, source_topic, source_partition, source_offset)
      values (${randomUUID()}, 'CYWG', 'winnipeg', now(), 1, 1, 1, 't', 0, 1)`;
    expect(await outcomeOf(insert)).toBe("42501");
    expect(await outcomeOf(reader`insert into consumer_offsets values ('g', 't', 0, 1, now())`)).toBe(
      "42501",
    );
    expect(
      await outcomeOf(
        reader`insert into reading_resends values ('t', 0, 1, ${randomUUID()}, 'winnipeg', now(), now())`,
      ),
    ).toBe("42501");
    expect(await outcomeOf(reader`update weather_readings set temperature_c = 0`)).toBe("42501");
    expect(await outcomeOf(reader`delete from weather_readings_winnipeg`)).toBe("42501");
    expect(await outcomeOf(reader`truncate weather_readings`)).toBe("42501");
  });

  it("cannot CREATE, ALTER or DROP tables", async () => {
    expect(await outcomeOf(reader`create table reader_was_here (id int)`)).toBe("42501");
    expect(await outcomeOf(reader`alter table weather_readings add column x int`)).toBe("42501");
    expect(await outcomeOf(reader`drop table consumer_offsets`)).toBe("42501");
  });

  it("opens read-only transactions by default, so even a temporary table is refused", async () => {
    const fresh = postgres(readerUrl.toString(), { max: 1, onnotice: () => {} });
    try {
      const [setting] = await fresh<
        { value: string }[]
      >`select current_setting('default_transaction_read_only') as value`;
      expect(setting?.value).toBe("on");
      // 25006: read_only_sql_transaction.
      expect(await outcomeOf(fresh`create temporary table scratch (id int)`)).toBe("25006");
    } finally {
      await fresh.end({ timeout: 5 });
    }
  });

  it("changes nothing when ensured again, and covers a new city's table", async () => {
    await prepareDatabase(adminUrl.toString(), ["winnipeg", "vancouver", "toronto"]);
    const again = await ensureReaderRole(adminUrl.toString(), { role });
    expect(again.created).toBe(false);
    expect(again.newlyGranted).toEqual(["weather_readings_toronto"]);
    expect(await outcomeOf(reader`select count(*) from weather_readings_toronto`)).toBe("allowed");
  });
});
