import type { ReadingDecodeErrorKind, WeatherReading } from "@weather/schema";
import type { Prng } from "./prng.ts";

/**
 * The garbage a messy station sends, one kind for each way the sink dead-letters a message
 * (pg-sink's poison.ts, @weather/schema's decode-error.ts), so a run exercises them all:
 * - implausible: a reading whose values no sensor gives (decoded, then refused: "invalid")
 * - unknown-station: a reading of a station the catalog does not have ("invalid")
 * - bad-magic-byte: the payload without the Confluent wire header, as a producer that skips the
 *   registry sends it
 * - unknown-schema: the wire header names a schema id the registry does not have
 * - undecodable: the right header, a payload cut short
 * - empty-value: no value at all (a tombstone)
 * Not sent: "incompatible-schema" (it needs a foreign schema registered in the registry) and
 * "no-table" (a city of the catalog without a table), both about the environment, not the stream.
 */
export const INVALID_KINDS = [
  "implausible",
  "unknown-station",
  "bad-magic-byte",
  "unknown-schema",
  "undecodable",
  "empty-value",
] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];

/** The kind the sink dead-letters each with (the dlq.error.kind header of its dead letters). */
export const SINK_KIND_OF: Readonly<Record<InvalidKind, ReadingDecodeErrorKind | "empty-value">> = {
  implausible: "invalid",
  "unknown-station": "invalid",
  "bad-magic-byte": "bad-magic-byte",
  "unknown-schema": "unknown-schema",
  undecodable: "undecodable",
  "empty-value": "empty-value",
};

/** The Confluent wire header: magic byte 0 and the schema id, big-endian. */
const HEADER_LENGTH = 5;
/** How much payload an undecodable message keeps: too little for any reading, Avro or JSON. */
const TRUNCATED_PAYLOAD = 10;

/** Out-of-range values, one field at a time, each far outside what validation allows. */
const IMPLAUSIBLE: readonly ((reading: WeatherReading, prng: Prng) => WeatherReading)[] = [
  (r, prng) => ({ ...r, temperatureC: 100 + Math.round(prng.next() * 900) }),
  (r, prng) => ({ ...r, temperatureC: -100 - Math.round(prng.next() * 900) }),
  (r, prng) => ({ ...r, windSpeedKmh: -1 - Math.round(prng.next() * 100) }),
  (r, prng) => ({ ...r, humidityPct: 101 + Math.round(prng.next() * 100) }),
];

/**
 * The reading an invalid message is made from: a fresh id (so it never shares one with a valid
 * reading), and for the two kinds that are readings, the fault itself. The wire-level kinds are
 * corrupted after encoding (corruptEncoded).
 */
export function invalidReading(
  kind: InvalidKind,
  reading: WeatherReading,
  prng: Prng,
  knownStations: ReadonlySet<string>,
): WeatherReading {
  const fresh = { ...reading, readingId: prng.uuid() };
  if (kind === "implausible") {
    const fault = IMPLAUSIBLE[Math.floor(prng.next() * IMPLAUSIBLE.length)] ?? IMPLAUSIBLE[0];
    return fault ? fault(fresh, prng) : fresh;
  }
  if (kind === "unknown-station") {
    let stationId = `${reading.stationId}-X`;
    while (knownStations.has(stationId)) stationId += "X";
    return { ...fresh, stationId };
  }
  return fresh;
}

/** The bytes sent for an invalid message of `kind`, from the reading's correct encoding. */
export function corruptEncoded(kind: InvalidKind, encoded: Buffer, unknownSchemaId: number): Buffer | null {
  switch (kind) {
    case "implausible":
    case "unknown-station":
      return encoded;
    case "bad-magic-byte":
      // An Avro reading starts with the length of its 36-character id (0x48), JSON with "{".
      return encoded.subarray(HEADER_LENGTH);
    case "unknown-schema": {
      const header = Buffer.alloc(HEADER_LENGTH);
      header.writeInt32BE(unknownSchemaId, 1);
      return Buffer.concat([header, encoded.subarray(HEADER_LENGTH)]);
    }
    case "undecodable":
      return encoded.subarray(0, HEADER_LENGTH + TRUNCATED_PAYLOAD);
    case "empty-value":
      return null;
  }
}
