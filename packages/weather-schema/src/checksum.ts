import { hash } from "node:crypto";
import type { WeatherReading } from "./reading.ts";

/**
 * A checksum of a set of readings that does not depend on their order, so the producer can compute
 * it while sending and PostgreSQL from the stored rows, in one pass each, and the two can be
 * compared exactly (@weather/db's storedReadingsChecksums computes the same in SQL).
 *
 * Definition (version sha256-sum64-v1):
 *   digest(r) = the first 8 bytes of SHA-256(canonical(r)), read as an unsigned 64-bit big-endian integer
 *   checksum  = (sum of digest(r) over the readings) mod 2^64, written as 16 lower-case hex digits
 *   canonical(r) = the concatenation of, all big-endian:
 *     readingId      16 bytes, the UUID's bytes (PostgreSQL's uuid_send)
 *     observedAt     int64, milliseconds since 1970-01-01T00:00:00Z (int8send)
 *     temperatureC   float64, IEEE-754 bits of (value + 0) (float8send)
 *     windSpeedKmh   float64, likewise
 *     humidityPct    float64, likewise
 *     pressureHpa    one byte 0 when null or absent; else one byte 1 and the float64 as above
 *     stationId      int32 byte length, then its UTF-8 bytes
 *     city           int32 byte length, then its UTF-8 bytes
 * Floats are compared by their bits, not their text, so any value stored exactly matches exactly.
 * Adding 0 turns -0 into +0 (IEEE-754) on both sides: whether a -0 survives the trip to the
 * database is then irrelevant. A sum, not an XOR, so a reading counted twice changes the checksum.
 * Sums are additive: the checksum of a union of disjoint sets is the sum of theirs (combineChecksums).
 */
export const READINGS_CHECKSUM_ALGORITHM = "sha256-sum64-v1";

const MOD = 1n << 64n;

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replaceAll("-", "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, "hex");
}

/** The bytes a reading's digest is taken of (see READINGS_CHECKSUM_ALGORITHM). */
export function canonicalReadingBytes(reading: WeatherReading): Buffer {
  const station = Buffer.from(reading.stationId, "utf8");
  const city = Buffer.from(reading.city, "utf8");
  const pressure = reading.pressureHpa ?? null;
  const bytes = Buffer.alloc(
    16 + 8 + 24 + (pressure === null ? 1 : 9) + 4 + station.length + 4 + city.length,
  );
  let at = uuidBytes(reading.readingId).copy(bytes, 0);
  at = bytes.writeBigInt64BE(BigInt(reading.observedAt.getTime()), at);
  at = bytes.writeDoubleBE(reading.temperatureC + 0, at);
  at = bytes.writeDoubleBE(reading.windSpeedKmh + 0, at);
  at = bytes.writeDoubleBE(reading.humidityPct + 0, at);
  if (pressure === null) at = bytes.writeUInt8(0, at);
  else {
    at = bytes.writeUInt8(1, at);
    at = bytes.writeDoubleBE(pressure + 0, at);
  }
  at = bytes.writeInt32BE(station.length, at);
  at += station.copy(bytes, at);
  at = bytes.writeInt32BE(city.length, at);
  city.copy(bytes, at);
  return bytes;
}

/** One reading's contribution to the checksum. */
export function readingDigest(reading: WeatherReading): bigint {
  // The one-shot hash: no Hash object per reading (a producer run with a manifest hashes each one).
  return hash("sha256", canonicalReadingBytes(reading), "buffer").readBigUInt64BE(0);
}

function format(sum: bigint): string {
  return (((sum % MOD) + MOD) % MOD).toString(16).padStart(16, "0");
}

/** The checksum of the union of disjoint sets, from theirs. */
export function combineChecksums(...checksums: readonly string[]): string {
  return format(checksums.reduce((sum, checksum) => sum + BigInt(`0x${checksum}`), 0n));
}

/** Accumulates the checksum of readings added one by one, in any order. */
export interface ReadingsChecksum {
  add(reading: WeatherReading): void;
  readonly count: number;
  /** 16 hex digits; "0000000000000000" for no readings. */
  value(): string;
}

export function createReadingsChecksum(): ReadingsChecksum {
  let sum = 0n;
  let count = 0;
  return {
    add(reading) {
      sum = (sum + readingDigest(reading)) % MOD;
      count += 1;
    },
    get count() {
      return count;
    },
    value: () => format(sum),
  };
}
