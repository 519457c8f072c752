import type { WeatherReading } from "@weather/schema";
import { describe, expect, it } from "vitest";
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, CopyRows } from "./copy-rows.ts";

/** One binary COPY row, field by field: null, or the field's bytes. */
function fieldsOf(row: Buffer): (Buffer | null)[] {
  const count = row.readInt16BE(0);
  const fields: (Buffer | null)[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const length = row.readInt32BE(at);
    at += 4;
    if (length === -1) {
      fields.push(null);
      continue;
    }
    fields.push(row.subarray(at, at + length));
    at += length;
  }
  expect(at, "the row ends with its last field").toBe(row.length);
  return fields;
}

const double = (value: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value);
  return bytes;
};
const int64 = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
};
/** timestamptz on the wire: microseconds since 2000-01-01 UTC. */
const micros = (ms: number) => int64((BigInt(ms) - 946_684_800_000n) * 1000n);

const reading: WeatherReading = {
  readingId: "3F1C2B7E-8d4a-4c1e-9b2f-6a7d8e9f0a1b",
  stationId: "CYWG",
  city: "winnipeg",
  observedAt: new Date("1969-07-20T20:17:40.123Z"),
  temperatureC: -0,
  windSpeedKmh: 5e-324,
  humidityPct: 100,
  pressureHpa: null,
};

describe("CopyRows", () => {
  it("lists every reading field's column, then the source columns", () => {
    expect(COPY_COLUMNS).toEqual([
      "reading_id",
      "station_id",
      "city",
      "observed_at",
      "temperature_c",
      "wind_speed_kmh",
      "humidity_pct",
      "pressure_hpa",
      "source_topic",
      "source_partition",
      "source_offset",
    ]);
  });

  it("frames the data as PostgreSQL's binary COPY format does", () => {
    expect(COPY_HEADER.toString("latin1", 0, 11)).toBe("PGCOPY\n\xff\r\n\0");
    expect(COPY_HEADER.subarray(11)).toEqual(Buffer.alloc(8));
    expect(COPY_TRAILER.readInt16BE(0)).toBe(-1);
  });

  it("writes each value bit for bit: -0.0, subnormals, null, timestamps before 1970", () => {
    const rows = new CopyRows(16);
    rows.appendReading(reading, Buffer.from("weather.readings"), 5, "1234567");
    expect(fieldsOf(rows.bytes())).toEqual([
      Buffer.from("3f1c2b7e8d4a4c1e9b2f6a7d8e9f0a1b", "hex"),
      Buffer.from("CYWG"),
      Buffer.from("winnipeg"),
      micros(reading.observedAt.getTime()),
      double(-0),
      double(5e-324),
      double(100),
      null,
      Buffer.from("weather.readings"),
      Buffer.from([0, 0, 0, 5]),
      int64(1_234_567n),
    ]);
    expect(fieldsOf(rows.bytes())[4]?.[0], "the sign bit of -0.0").toBe(0x80);
  });

  it("writes offsets past 2^53 and timestamps far from 2000 exactly", () => {
    const rows = new CopyRows(16);
    const far = { ...reading, observedAt: new Date(-8_000_000_000_000_000), pressureHpa: 1013.25 };
    rows.appendReading(far, Buffer.from("t"), 0, "9223372036854775807");
    const fields = fieldsOf(rows.bytes());
    expect(fields[3]).toEqual(micros(-8_000_000_000_000_000));
    expect(fields[7]).toEqual(double(1013.25));
    expect(fields[10]).toEqual(int64(9_223_372_036_854_775_807n));
  });

  it("grows its buffer and keeps rows back to back", () => {
    const rows = new CopyRows(8);
    rows.appendReading(reading, Buffer.from("t"), 1, "0");
    const first = rows.length;
    rows.appendReading({ ...reading, city: "vancouver", stationId: "CYVR" }, Buffer.from("t"), 1, "1");
    expect(fieldsOf(rows.bytes().subarray(0, first))[2]).toEqual(Buffer.from("winnipeg"));
    expect(fieldsOf(rows.bytes().subarray(first))[2]).toEqual(Buffer.from("vancouver"));
  });

  it("refuses a reading id that is not a UUID instead of storing garbage", () => {
    const rows = new CopyRows();
    expect(() =>
      rows.appendReading({ ...reading, readingId: "not-a-uuid" }, Buffer.from("t"), 0, "0"),
    ).toThrow(/is not a UUID/);
  });
});
